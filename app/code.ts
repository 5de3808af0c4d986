/**
 * The code registry's workflows: registering an uploaded archive of a user's scripts as the next
 * version of a name (content-addressed, so the same files give back the same version), and
 * finding the version a run names.
 */
import {
  CodeArchiveInvalid,
  packCodeArchive,
  readCodeArchive,
  sha256Hex,
} from "../core/code-archive.js";
import { ManifestInvalid } from "../core/code-manifest.js";
import {
  type CodeReference,
  type CodeVersion,
  codeArchiveKey,
  manifestOf,
} from "../core/code-registry.js";
import { InvalidCode, NotFound } from "../core/errors.js";
import { CODE_UPLOAD_PREFIX } from "../core/uploads.js";
import type { Ports } from "./ports.js";

export interface Registered {
  version: CodeVersion;
  /** False when a version of the name already held exactly these files. */
  created: boolean;
}

/**
 * Registers the archive at `uploadKey` (a .tar.gz, .tar or .zip from POST /uploads with
 * purpose `code`) as `codeName`: checked (paths, links, sizes, modeldrop.json and the scripts
 * it names), packed deterministically and stored once at code/<sha256>/sourcedir.tar.gz.
 */
export async function registerCode(
  ports: Pick<Ports, "objects" | "code" | "now">,
  args: { bucket: string; codeName: string; uploadKey: string },
): Promise<Registered> {
  const { bucket, codeName, uploadKey } = args;
  if (!uploadKey.startsWith(CODE_UPLOAD_PREFIX))
    throw new InvalidCode(
      `upload must be a key under ${CODE_UPLOAD_PREFIX} (POST /uploads with purpose "code")`,
      {
        field: "upload",
      },
    );
  const bytes = await ports.objects.getBuffer(bucket, uploadKey);
  if (!bytes) throw new NotFound("object", `s3://${bucket}/${uploadKey} does not exist`);
  let files: Awaited<ReturnType<typeof readCodeArchive>>;
  let manifest: CodeVersion["manifest"];
  try {
    files = await readCodeArchive(bytes);
    manifest = manifestOf(files);
  } catch (error) {
    if (error instanceof CodeArchiveInvalid || error instanceof ManifestInvalid)
      throw new InvalidCode(error.message, { field: "upload", cause: error });
    throw error;
  }
  const archive = await packCodeArchive(files);
  const sha256 = sha256Hex(archive);
  const holding = (await ports.code.versions(codeName)).find((v) => v.sha256 === sha256);
  if (holding) return { version: holding, created: false };
  const key = codeArchiveKey(sha256);
  // Content-addressed: an archive already there holds exactly these bytes.
  if (!(await ports.objects.head(bucket, key)))
    await ports.objects.putObject(bucket, key, archive, "application/gzip");
  const version: CodeVersion = {
    codeName,
    version: await ports.code.nextVersion(codeName),
    sha256,
    sourcedir: `s3://${bucket}/${key}`,
    manifest,
    files: files.length,
    bytes: files.reduce((sum, file) => sum + file.data.length, 0),
    createdAt: ports.now().toISOString(),
  };
  await ports.code.put(version);
  return { version, created: true };
}

/** The version a run names (its number, or the newest), or a NotFound saying which is missing. */
export async function resolveCode(
  ports: Pick<Ports, "code">,
  reference: CodeReference,
): Promise<CodeVersion> {
  const found =
    reference.version === undefined
      ? await ports.code.newest(reference.name)
      : await ports.code.get(reference.name, reference.version);
  if (found) return found;
  if (reference.version !== undefined && (await ports.code.newest(reference.name)))
    throw new NotFound(
      "code-version",
      `code ${reference.name} has no version ${reference.version}`,
    );
  throw new NotFound(
    "code",
    `no code named ${reference.name} is registered (register it with \`modeldrop code push\` or POST /code/${reference.name}/versions)`,
  );
}

/** GET /code: names with their newest version number. */
export function listCode(ports: Pick<Ports, "code">, limit: number, cursor?: string) {
  return ports.code.names(limit, cursor);
}

/** GET /code/{name}: the name's versions, newest first. */
export async function codeVersions(
  ports: Pick<Ports, "code">,
  codeName: string,
): Promise<CodeVersion[]> {
  const versions = await ports.code.versions(codeName);
  if (versions.length === 0) throw new NotFound("code", `no code named ${codeName} is registered`);
  return versions;
}
