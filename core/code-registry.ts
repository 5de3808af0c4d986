/**
 * The code registry: a user's scripts registered by name, one version per distinct archive.
 * A version is content-addressed (its normalized sourcedir.tar.gz lives at
 * `code/<sha256>/sourcedir.tar.gz`) and never changes; registering the same files again under
 * the same name gives back the version that holds them.
 */
import { z } from "zod";
import { CodeArchiveInvalid, type CodeFile } from "./code-archive.js";
import { CodeManifest, ManifestInvalid, manifestScripts, parseManifest } from "./code-manifest.js";
import { CodeReference } from "./options.js";

export const CodeName = CodeReference.shape.name;
export type { CodeReference };

export const CodeVersion = z.object({
  codeName: CodeName,
  version: z.number().int().positive(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** `s3://<bucket>/code/<sha256>/sourcedir.tar.gz`. */
  sourcedir: z.string().min(1),
  manifest: CodeManifest,
  files: z.number().int().min(0),
  bytes: z.number().int().min(0),
  createdAt: z.string(),
});
export type CodeVersion = z.infer<typeof CodeVersion>;

/** Where a code version's archive lives in the data bucket. */
export function codeArchiveKey(sha256: string): string {
  return `code/${sha256}/sourcedir.tar.gz`;
}

/**
 * The manifest of an archive's files, checked against them: modeldrop.json at the root, valid,
 * and every script it names present.
 */
export function manifestOf(files: readonly CodeFile[]): CodeManifest {
  const file = files.find((f) => f.path === "modeldrop.json");
  if (!file)
    throw new CodeArchiveInvalid(
      "the code archive has no modeldrop.json at its root; it says which scripts run (see examples/)",
    );
  let json: unknown;
  try {
    json = JSON.parse(file.data.toString("utf8"));
  } catch (error) {
    throw new ManifestInvalid(
      `modeldrop.json is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const manifest = parseManifest(json);
  const paths = new Set(files.map((f) => f.path));
  const listed = files
    .map((f) => f.path)
    .filter((path) => path.endsWith(".py"))
    .slice(0, 20);
  for (const script of manifestScripts(manifest))
    if (!paths.has(script))
      throw new ManifestInvalid(
        `modeldrop.json names ${script}, which the code archive does not hold (its Python files: ${listed.join(", ") || "none"})`,
      );
  return manifest;
}
