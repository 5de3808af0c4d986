/**
 * Builds the dashboard into web/dist: one minified script and one stylesheet with content
 * hashes in their names (served as immutable), and index.html naming them (served no-cache).
 * `npm run build:web` runs it; packaging the stack runs it first (cli/local-stack.ts).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { type BuildOptions, buildSync } from "esbuild";

export const DIST = "web/dist";

export interface DashboardBuild {
  /** web/dist/index.html and the files under web/dist/assets/, with their sizes. */
  files: { path: string; bytes: number }[];
}

/**
 * esbuild's options for the dashboard's script and stylesheet, output into web/dist/assets.
 * bench/dashboard.ts reruns them with `write: false` to see what the bytes are made of.
 */
export function dashboardBuildOptions(projectRoot: string): BuildOptions {
  return {
    entryPoints: [resolve(projectRoot, "web", "main.tsx")],
    outdir: resolve(projectRoot, DIST, "assets"),
    entryNames: "app-[hash]",
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    target: ["es2022", "chrome111", "firefox111", "safari16"],
    jsx: "automatic",
    define: { "process.env.NODE_ENV": '"production"' },
    legalComments: "external",
    logLevel: "warning",
  };
}

export function buildDashboard(projectRoot: string): DashboardBuild {
  const dist = resolve(projectRoot, DIST);
  rmSync(dist, { recursive: true, force: true });
  mkdirSync(join(dist, "assets"), { recursive: true });
  const result = buildSync({ ...dashboardBuildOptions(projectRoot), metafile: true });
  const outputs = Object.keys(result.metafile.outputs).map((path) => resolve(projectRoot, path));
  const script = outputs.find((path) => path.endsWith(".js"));
  const style = outputs.find((path) => path.endsWith(".css"));
  if (!script || !style) throw new Error("the dashboard build made no script or no stylesheet");
  const template = readFileSync(resolve(projectRoot, "web", "index.html"), "utf8");
  writeFileSync(
    join(dist, "index.html"),
    template
      .replace("{{script}}", `assets/${basename(script)}`)
      .replace("{{style}}", `assets/${basename(style)}`),
  );
  return {
    files: [join(dist, "index.html"), ...outputs].map((path) => ({
      path,
      bytes: readFileSync(path).length,
    })),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const built = buildDashboard(resolve(import.meta.dirname, ".."));
  for (const file of built.files) console.log(`${file.bytes.toString().padStart(9)}  ${file.path}`);
}
