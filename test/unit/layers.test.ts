/**
 * The layering rules (ARCHITECTURE.md), checked on every TypeScript file's imports as the
 * TypeScript compiler reads them: a change that makes a layer import what it must not fails
 * here, naming the file and the import.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const LAYERS = ["core", "app", "aws", "handlers", "local", "cli", "web", "test", "bench"] as const;
type Layer = (typeof LAYERS)[number];

function sources(folder: string): string[] {
  return readdirSync(join(ROOT, folder), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.(ts|tsx|mts|mjs)$/.test(entry.name))
    .filter((entry) => !entry.parentPath.includes(`${sep}dist`))
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)));
}

interface Import {
  file: string;
  specifier: string;
  /** The project folder a relative import lands in, or undefined for a package. */
  layer: string | undefined;
}

function importsOf(file: string): Import[] {
  const text = readFileSync(join(ROOT, file), "utf8");
  const { importedFiles } = ts.preProcessFile(text, true, true);
  return importedFiles.map(({ fileName: specifier }) => {
    if (!specifier.startsWith(".")) return { file, specifier, layer: undefined };
    const target = relative(ROOT, resolve(ROOT, dirname(file), specifier));
    return { file, specifier, layer: target.split(sep)[0] };
  });
}

const all = LAYERS.flatMap((layer) => sources(layer).map((file) => ({ layer, file })));
const imports = (layer: Layer) =>
  all.filter((source) => source.layer === layer).flatMap((source) => importsOf(source.file));
const shown = (found: Import[]) => found.map((i) => `${i.file} imports ${i.specifier}`);

/** Packages that reach AWS or the Lambda runtime: only the adapters and the plumbing use them. */
const AWS_PACKAGE = /^@aws-sdk\//;
const LAMBDA_PACKAGE = /^(@aws-lambda-powertools\/|@middy\/)/;

describe("the layers", () => {
  it("finds the project's sources", () => {
    for (const layer of ["core", "app", "aws", "handlers", "local", "cli", "web"] as const)
      expect(imports(layer).length, layer).toBeGreaterThan(0);
  });

  it("core imports only core and plain libraries: no AWS, no application, no Lambda plumbing", () => {
    const bad = imports("core").filter(
      (i) =>
        (i.layer !== undefined && !["core", "ml"].includes(i.layer)) ||
        AWS_PACKAGE.test(i.specifier) ||
        LAMBDA_PACKAGE.test(i.specifier),
    );
    expect(shown(bad)).toEqual([]);
  });

  it("app imports only core and itself, and no AWS SDK or Lambda plumbing", () => {
    const bad = imports("app").filter(
      (i) =>
        (i.layer !== undefined && !["core", "app"].includes(i.layer)) ||
        AWS_PACKAGE.test(i.specifier) ||
        LAMBDA_PACKAGE.test(i.specifier),
    );
    expect(shown(bad)).toEqual([]);
  });

  it("aws implements app's ports and imports neither handlers, local nor cli", () => {
    const bad = imports("aws").filter(
      (i) => i.layer !== undefined && !["core", "app", "aws"].includes(i.layer),
    );
    expect(shown(bad)).toEqual([]);
  });

  it("handlers import neither local nor cli, and reach AWS only through aws/", () => {
    const bad = imports("handlers").filter(
      (i) =>
        (i.layer !== undefined && !["core", "app", "aws", "handlers"].includes(i.layer)) ||
        AWS_PACKAGE.test(i.specifier),
    );
    expect(shown(bad)).toEqual([]);
  });

  it("local (the local cloud) knows nothing of modeldrop's application", () => {
    const bad = imports("local").filter(
      (i) => i.layer !== undefined && !["local", "ml"].includes(i.layer),
    );
    expect(shown(bad)).toEqual([]);
  });

  it("web (the dashboard, bundled for the browser) imports only core, ml data, react and zod", () => {
    // Its build script runs in Node and is the one exception.
    const bad = imports("web").filter(
      (i) =>
        i.file !== join("web", "build.ts") &&
        (i.layer === undefined
          ? !/^(react|react-dom|zod)(\/|$)/.test(i.specifier)
          : !["web", "core", "ml"].includes(i.layer)),
    );
    expect(shown(bad)).toEqual([]);
  });

  it("only aws/, local/, tests and benchmarks import the AWS SDK", () => {
    const bad = (["core", "app", "handlers", "cli"] as const)
      .flatMap(imports)
      .filter((i) => AWS_PACKAGE.test(i.specifier));
    expect(shown(bad)).toEqual([]);
  });
});
