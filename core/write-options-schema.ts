/** Writes the run-options JSON Schema where the Python jobs (and their containers) find it. */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { runOptionsJsonSchema } from "./options.js";

export const OPTIONS_SCHEMA_PATH = fileURLToPath(
  new URL("../ml/modeldrop_ml/options.schema.json", import.meta.url),
);

export function renderOptionsSchema(): string {
  return `${JSON.stringify(runOptionsJsonSchema(), null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(OPTIONS_SCHEMA_PATH, renderOptionsSchema());
  console.log(`wrote ${OPTIONS_SCHEMA_PATH}`);
}
