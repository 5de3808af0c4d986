/**
 * Your own scripts from the command line: `modeldrop push` packs a project folder (or takes a
 * .zip / .tar.gz as it is), checks it as the API will, uploads it and registers it as the next
 * version of its name; `modeldrop drop --code` does that first and names the version in the
 * drop's options.
 */
import {
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, relative, sep } from "node:path";
import { CodeVersionView, Upload } from "../core/api.js";
import {
  CodeArchiveInvalid,
  type CodeFile,
  packCodeArchive,
  readCodeArchive,
} from "../core/code-archive.js";
import { ManifestInvalid } from "../core/code-manifest.js";
import { manifestOf } from "../core/code-registry.js";
import type { CodeReference } from "../core/options.js";
import { slug } from "../core/runs.js";
import { type Api, CliError, postFile } from "./client.js";

/** Folders a project carries that are not its code. */
const SKIPPED = new Set([".git", ".venv", "venv", "node_modules", "__pycache__", ".modeldrop"]);

function folderFiles(root: string): CodeFile[] {
  const files: CodeFile[] = [];
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      const inProject = relative(root, path).split(sep).join("/");
      if (entry.isDirectory()) {
        if (!SKIPPED.has(entry.name)) walk(path);
        continue;
      }
      if (entry.isSymbolicLink())
        throw new CliError(
          `${inProject} is a symbolic link; a code archive holds regular files only`,
          2,
          { code: "invalid-code" },
        );
      if (!entry.isFile() || entry.name.endsWith(".pyc")) continue;
      const mode = lstatSync(path).mode;
      files.push({ path: inProject, executable: (mode & 0o111) !== 0, data: readFileSync(path) });
    }
  };
  walk(root);
  return files;
}

/** The project as the archive the API receives, checked the way the API checks it. */
export async function packProject(path: string): Promise<{ archive: Buffer; name: string }> {
  let isFolder: boolean;
  try {
    isFolder = statSync(path).isDirectory();
  } catch {
    throw new CliError(`${path} cannot be read`, 2, { code: "unreadable-file" });
  }
  try {
    const raw = isFolder ? undefined : readFileSync(path);
    const files = isFolder ? folderFiles(path) : await readCodeArchive(raw ?? Buffer.alloc(0));
    manifestOf(files);
    const stem = basename(path).replace(/\.(tar\.gz|tgz|tar|zip)$/, "");
    return { archive: raw ?? (await packCodeArchive(files)), name: slug(stem, 63) };
  } catch (error) {
    if (error instanceof CodeArchiveInvalid || error instanceof ManifestInvalid)
      throw new CliError(`${path}: ${error.message}`, 2, { code: "invalid-code" });
    throw error;
  }
}

/** Uploads and registers the project; the version that holds it (new or found). */
export async function pushCode(
  api: Api,
  path: string,
  name?: string,
): Promise<{ version: ReturnType<typeof CodeVersionView.parse>; created: boolean }> {
  const packed = await packProject(path);
  const codeName = name ?? packed.name;
  const folder = mkdtempSync(join(tmpdir(), "modeldrop-push-"));
  try {
    const file = join(folder, `${codeName}.tar.gz`);
    writeFileSync(file, packed.archive);
    const upload = await api.call(Upload, "POST", "/uploads", {
      fileName: basename(file),
      size: packed.archive.length,
      purpose: "code",
    });
    await postFile(upload.url, upload.fields, file);
    const { status, body } = await api.callWithStatus(
      CodeVersionView,
      "POST",
      `/code/${encodeURIComponent(codeName)}/versions`,
      { upload: upload.key },
    );
    return { version: body, created: status === 201 };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

/** `--code` of a drop: a project to push first, or `name[:version]` already registered. */
export async function codeOption(api: Api, value: string): Promise<CodeReference> {
  let exists = false;
  try {
    statSync(value);
    exists = true;
  } catch {
    // not a path: a registered name
  }
  if (exists) {
    const { version, created } = await pushCode(api, value);
    process.stderr.write(
      `code ${version.codeName} version ${version.version} ${created ? "registered" : "unchanged"} (sha256 ${version.sha256.slice(0, 12)})\n`,
    );
    return { name: version.codeName, version: version.version };
  }
  const match = /^([a-zA-Z0-9](?:-*[a-zA-Z0-9]){0,62})(?::(\d+))?$/.exec(value);
  if (!match?.[1])
    throw new CliError(
      `--code ${value}: not a folder or archive here, nor a registered name[:version]`,
      2,
      { code: "invalid-options", field: "code" },
    );
  return { name: match[1], ...(match[2] ? { version: Number(match[2]) } : {}) };
}
