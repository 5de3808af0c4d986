/**
 * A user's code archive (their SageMaker scripts and modeldrop.json), read and packed in one
 * place. Lambda has no tar binary, so both directions are pure JS: tar-stream for tar, yauzl
 * for zip, node:zlib for gzip.
 *
 * Reading is strict because the archive is an upload and its files end up in a job's code
 * folder: only regular files with plain relative paths come out, anything else is refused with
 * a CodeArchiveInvalid that names the entry. Sizes are checked entry by entry as the archive
 * streams, so a zip or gzip bomb is stopped long before it is inflated.
 *
 * Packing is deterministic (sorted paths, no times, no owners), so the sha256 of the packed
 * archive identifies the code: the same files always give the same bytes.
 */
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { promisify } from "node:util";
import { createGunzip, gzip } from "node:zlib";
import { extract as tarExtract, pack as tarPack } from "tar-stream";
import { fromBufferPromise, getFileNameLowLevel, type Entry as ZipEntry } from "yauzl";

export interface CodeFile {
  path: string;
  executable: boolean;
  data: Buffer;
}

export interface ArchiveLimits {
  maxArchiveBytes: number;
  maxUnpackedBytes: number;
  maxFiles: number;
}

const MiB = 1024 * 1024;
const gzipAsync = promisify(gzip);

export const CODE_LIMITS: ArchiveLimits = {
  maxArchiveBytes: 50 * MiB,
  maxUnpackedBytes: 200 * MiB,
  maxFiles: 5000,
};

/** The code archive cannot be used; the message names the entry at fault and why. */
export class CodeArchiveInvalid extends Error {
  override readonly name = "CodeArchiveInvalid";
}

/** What an entry is, in the words a refusal uses. */
type EntryKind =
  | "file"
  | "folder"
  | "a symbolic link"
  | "a hard link"
  | "a device or FIFO"
  | "an entry of a kind modeldrop does not read";

/** One entry as either format reports it; `read` streams its data and is called at most once. */
interface ArchiveEntry {
  name: string;
  kind: EntryKind;
  mode: number;
  size: number;
  read: () => AsyncIterable<unknown>;
}

type Format = ".tar.gz" | ".tar" | ".zip";

/** Reads a .tar.gz / .tar / .zip (detected by magic bytes, not name) into regular files. */
export async function readCodeArchive(
  bytes: Buffer,
  limits: ArchiveLimits = CODE_LIMITS,
): Promise<CodeFile[]> {
  if (bytes.length > limits.maxArchiveBytes) {
    throw new CodeArchiveInvalid(
      `the code archive is ${sizeText(bytes.length)}, more than the ${sizeText(limits.maxArchiveBytes)} modeldrop accepts`,
    );
  }
  const format = formatOf(bytes);
  if (!format) throw new CodeArchiveInvalid("the code archive is not a .tar.gz, .tar or .zip");
  const entries = format === ".zip" ? zipEntries(bytes, limits) : tarEntries(bytes, format, limits);
  try {
    return withoutTopFolder(checkedTree(await regularFiles(entries, limits)));
  } catch (error) {
    if (error instanceof CodeArchiveInvalid) throw error;
    // Whatever else the libraries throw means the bytes are not a well-formed archive.
    const reason = error instanceof Error ? error.message : String(error);
    throw new CodeArchiveInvalid(`the code archive is a damaged ${format} (${reason})`, {
      cause: error,
    });
  }
}

/**
 * A deterministic .tar.gz of the files (sorted by path, mtime 0, uid/gid 0, mode 0644 or 0755,
 * no owner names, gzip with no timestamp): the same files always give the same bytes.
 */
export async function packCodeArchive(files: CodeFile[]): Promise<Buffer> {
  const checked = files.map((file) => ({ ...file, path: checkedPath(file.path) }));
  const sorted = checkedTree(checked).sort(byPath);
  const pack = tarPack();
  for (const file of sorted) {
    pack.entry(
      {
        name: file.path,
        type: "file",
        mode: file.executable ? 0o755 : 0o644,
        mtime: new Date(0),
        uid: 0,
        gid: 0,
        uname: "",
        gname: "",
      },
      file.data,
    );
  }
  pack.finalize();
  const tar = await bytesOf(pack);
  // zlib writes no timestamp; the fixed level fixes the XFL byte, and the OS byte (which zlib
  // sets by platform) is pinned to Unix so a Mac and Lambda pack the same bytes.
  const packed = await gzipAsync(tar, { level: 9 });
  packed[9] = 3;
  return packed;
}

/** sha256 hex of bytes */
export function sha256Hex(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function formatOf(bytes: Buffer): Format | undefined {
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return ".tar.gz";
  // A local file header, or the end record of an empty zip.
  const zipMagic = bytes.subarray(0, 4).toString("latin1");
  if (zipMagic === "PK\x03\x04" || zipMagic === "PK\x05\x06") return ".zip";
  // "ustar\0" (POSIX) or "ustar " (GNU) in the first header.
  if (bytes.subarray(257, 262).toString("latin1") === "ustar") return ".tar";
  return undefined;
}

/**
 * The archive's regular files, sorted by path. Entries are counted and sized as they stream,
 * so reading stops at the first one past a limit. Directories are skipped (a file's folders
 * are implied by its path), and the clutter that zipping on a Mac or running Python leaves
 * behind (.DS_Store, __MACOSX/, __pycache__/, *.pyc) is dropped without a word: it is never
 * part of a job, and refusing it would only make users re-zip.
 */
async function regularFiles(
  entries: AsyncIterable<ArchiveEntry>,
  limits: ArchiveLimits,
): Promise<CodeFile[]> {
  const files: CodeFile[] = [];
  let count = 0;
  let unpacked = 0;
  const pastLimit = (path: string) =>
    new CodeArchiveInvalid(
      `the code archive holds ${shown(path)}, which takes the unpacked code past ${sizeText(limits.maxUnpackedBytes)}, the most modeldrop accepts`,
    );
  for await (const entry of entries) {
    count += 1;
    if (count > limits.maxFiles) throw tooManyEntries(limits);
    const path = checkedPath(entry.name, entry.kind === "folder");
    if (entry.kind === "folder" || isClutter(path)) continue;
    if (entry.kind !== "file") {
      throw new CodeArchiveInvalid(
        `the code archive holds ${shown(path)}, ${entry.kind}; modeldrop reads only regular files`,
      );
    }
    // The declared size refuses a bomb before any of it is inflated; counting the chunks
    // keeps the cap even if a header lies.
    if (unpacked + entry.size > limits.maxUnpackedBytes) throw pastLimit(path);
    const chunks: Uint8Array[] = [];
    for await (const chunk of entry.read()) {
      if (!(chunk instanceof Uint8Array)) throw new Error(`${path} streamed a non-byte chunk`);
      unpacked += chunk.byteLength;
      if (unpacked > limits.maxUnpackedBytes) throw pastLimit(path);
      chunks.push(chunk);
    }
    files.push({ path, executable: (entry.mode & 0o111) !== 0, data: Buffer.concat(chunks) });
  }
  return files.sort(byPath);
}

function tooManyEntries(limits: ArchiveLimits): CodeArchiveInvalid {
  return new CodeArchiveInvalid(
    `the code archive holds more than ${limits.maxFiles} entries (files and folders), the most modeldrop accepts`,
  );
}

/**
 * The entry's path made plain (`./a//b` → `a/b`), or a refusal naming it. A folder's name may
 * come out empty (the `./` that `tar -C dir .` writes is the code folder itself).
 */
function checkedPath(name: string, isFolder = false): string {
  const refuse = (problem: string) =>
    new CodeArchiveInvalid(`the code archive holds ${shown(name)}, ${problem}`);
  if (name.includes("\0")) throw refuse("a path with a NUL character");
  if (name.includes("\\")) throw refuse("a path with a backslash");
  if (name.startsWith("/") || /^[A-Za-z]:/.test(name)) throw refuse("an absolute path");
  const segments = name.split("/");
  if (segments.includes("..")) throw refuse("a path that leaves the code folder");
  const path = segments.filter((segment) => segment !== "" && segment !== ".").join("/");
  if (path === "" && !isFolder) {
    throw new CodeArchiveInvalid("the code archive holds a file with an empty name");
  }
  return path;
}

function isClutter(path: string): boolean {
  const segments = path.split("/");
  return (
    segments.at(-1) === ".DS_Store" ||
    path.endsWith(".pyc") ||
    segments.includes("__MACOSX") ||
    segments.includes("__pycache__")
  );
}

/** The files unchanged, or a refusal when two share a path or one is another's folder. */
function checkedTree(files: CodeFile[]): CodeFile[] {
  const paths = new Set<string>();
  const folders = new Set<string>();
  for (const { path } of files) {
    if (paths.has(path))
      throw new CodeArchiveInvalid(`the code archive holds ${shown(path)} twice`);
    paths.add(path);
    const segments = path.split("/");
    for (let end = 1; end < segments.length; end += 1)
      folders.add(segments.slice(0, end).join("/"));
  }
  for (const path of paths) {
    if (folders.has(path)) {
      throw new CodeArchiveInvalid(
        `the code archive holds ${shown(path)} both as a file and as a folder`,
      );
    }
  }
  return files;
}

/**
 * Zipping a folder (Finder's "Compress", `zip -r churn.zip churn`) puts every file under that
 * folder. When all files share one top folder and its modeldrop.json is there, the folder is
 * the code folder, so it is stripped; without a modeldrop.json in it, paths are left alone.
 */
function withoutTopFolder(files: CodeFile[]): CodeFile[] {
  const top = files[0]?.path.split("/")[0];
  if (top === undefined) return files;
  const prefix = `${top}/`;
  if (!files.every((file) => file.path.startsWith(prefix))) return files;
  if (!files.some((file) => file.path === `${prefix}modeldrop.json`)) return files;
  return files.map((file) => ({ ...file, path: file.path.slice(prefix.length) }));
}

/**
 * A tar can run on past its last file (zero blocks, which a gzip bomb packs well), so the tar
 * stream itself is capped as well as the files. Each entry costs a 512-byte header, up to 511
 * bytes of padding and, for a long name, a few more blocks; GNU tar pads the end to 10 KiB.
 */
const TAR_BYTES_PER_ENTRY = 8 * 1024;
const TAR_END_BYTES = 10 * 1024;

async function* tarEntries(
  bytes: Buffer,
  format: ".tar.gz" | ".tar",
  limits: ArchiveLimits,
): AsyncGenerator<ArchiveEntry> {
  const tarCap = limits.maxUnpackedBytes + limits.maxFiles * TAR_BYTES_PER_ENTRY + TAR_END_BYTES;
  const tar = format === ".tar.gz" ? createGunzip().end(bytes) : Readable.from([bytes]);
  let tarBytes = 0;
  tar.on("data", (chunk: Buffer) => {
    tarBytes += chunk.length;
    if (tarBytes > tarCap) {
      tar.destroy(
        new CodeArchiveInvalid(
          `the code archive unpacks past ${sizeText(tarCap)} of tar data, more than its files need under the ${sizeText(limits.maxUnpackedBytes)} modeldrop accepts`,
        ),
      );
    }
  });
  const extract = tarExtract();
  tar.on("error", (error) => extract.destroy(error));
  tar.pipe(extract);
  try {
    for await (const stream of extract) {
      const { header } = stream;
      yield {
        name: header.name,
        kind: tarKind(header.type),
        mode: header.mode,
        size: header.size,
        read: () => stream,
      };
      // An entry that was skipped must still be read past to reach the next header.
      stream.resume();
    }
  } finally {
    tar.destroy();
    extract.destroy();
  }
}

function tarKind(type: string | null): EntryKind {
  switch (type) {
    case "file":
    case "contiguous-file":
      return "file";
    case "directory":
      return "folder";
    case "symlink":
      return "a symbolic link";
    case "link":
      return "a hard link";
    case "character-device":
    case "block-device":
    case "fifo":
      return "a device or FIFO";
    default:
      return "an entry of a kind modeldrop does not read";
  }
}

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

async function* zipEntries(bytes: Buffer, limits: ArchiveLimits): AsyncGenerator<ArchiveEntry> {
  // decodeStrings: false keeps yauzl from rewriting backslashes and refusing names in its own
  // words; the name is decoded below and checked like a tar's.
  const zip = await fromBufferPromise(bytes, {
    lazyEntries: true,
    validateEntrySizes: true,
    decodeStrings: false,
  });
  if (zip.entryCount > limits.maxFiles) throw tooManyEntries(limits);
  try {
    for await (const entry of zip.eachEntry()) {
      const name = getFileNameLowLevel(
        entry.generalPurposeBitFlag,
        entry.fileNameRaw,
        entry.extraFields,
        true,
      );
      // Unix zip tools keep the file's mode in the high half of the external attributes;
      // zips made elsewhere leave it 0, which reads as a plain, non-executable file.
      const mode = entry.externalFileAttributes >>> 16;
      yield {
        name,
        kind: zipKind(name, mode),
        mode,
        size: entry.uncompressedSize,
        read: () => zipData(zip, entry, name),
      };
    }
  } finally {
    zip.close();
  }
}

function zipKind(name: string, mode: number): EntryKind {
  const type = mode & S_IFMT;
  if (name.endsWith("/") || type === S_IFDIR) return "folder";
  if (type === S_IFLNK) return "a symbolic link";
  if (type !== 0 && type !== S_IFREG) return "a device or FIFO";
  return "file";
}

async function* zipData(
  zip: Awaited<ReturnType<typeof fromBufferPromise>>,
  entry: ZipEntry,
  name: string,
): AsyncGenerator<unknown> {
  if (entry.isEncrypted()) {
    throw new CodeArchiveInvalid(
      `the code archive holds ${shown(name)}, an encrypted entry modeldrop cannot read`,
    );
  }
  if (!entry.canDecodeFileData()) {
    throw new CodeArchiveInvalid(
      `the code archive holds ${shown(name)}, compressed with zip method ${entry.compressionMethod}; modeldrop reads stored and deflated entries`,
    );
  }
  yield* await zip.openReadStreamPromise(entry);
}

async function bytesOf(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) {
    if (!(chunk instanceof Uint8Array)) throw new Error("the tar packer gave a non-byte chunk");
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function byPath(a: CodeFile, b: CodeFile): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

/** A name as a refusal shows it: control characters (a NUL, a newline) escaped. */
function shown(name: string): string {
  return Array.from(name, (char) => {
    const code = char.codePointAt(0) ?? 0;
    return code < 0x20 || code === 0x7f ? `\\x${code.toString(16).padStart(2, "0")}` : char;
  }).join("");
}

function sizeText(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  const [amount, unit] = bytes < MiB ? [bytes / 1024, "KiB"] : [bytes / MiB, "MiB"];
  return `${Number(amount.toFixed(1))} ${unit}`;
}
