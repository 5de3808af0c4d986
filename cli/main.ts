// The `modeldrop` command. `up` starts the local cloud; the REST-facing commands arrive with issue 6.
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { up } from "../local/up.js";

const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "up") return up(rest, PROJECT_ROOT);
  console.error(
    `usage: modeldrop up [--help]${command ? `\nmodeldrop: unknown command ${command}` : ""}`,
  );
  return 2;
}
