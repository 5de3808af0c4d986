// Builds the fixture stack in the layout `serverless package` writes: the template (with the
// ASL inlined as its DefinitionString) and the functions' zip next to it.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const FIXTURE = resolve(import.meta.dirname, "..", "fixtures", "stack");

export function packageFixtureStack(): { dir: string; sourcedir: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), "modeldrop-stack-"));
  const definition = readFileSync(join(FIXTURE, "pipeline.asl.json"), "utf8");
  const template = readFileSync(join(FIXTURE, "template.json"), "utf8").replace(
    '"__DEFINITION__"',
    // A function, not a string: a replacement string would turn the ASL's `$$` into `$`.
    () => JSON.stringify(definition),
  );
  writeFileSync(join(dir, "cloudformation-template-update-stack.json"), template);
  execFileSync("python3", [
    "-m",
    "zipfile",
    "-c",
    join(dir, "fixture.zip"),
    join(FIXTURE, "handlers"),
  ]);
  execFileSync("tar", ["-czf", join(dir, "sourcedir.tar.gz"), "-C", FIXTURE, "train.py"]);
  return { dir, sourcedir: readFileSync(join(dir, "sourcedir.tar.gz")) };
}
