/**
 * One file out of a .tar.gz held in memory: the report reads the training history from the
 * model artifact SageMaker uploads (`model.tar.gz`), and Lambda has no tar binary.
 * Reads ustar, GNU (long names) and pax (`path=`) headers, which covers what SageMaker,
 * GNU tar and Python's tarfile write.
 */
import { gunzipSync } from "node:zlib";

const BLOCK = 512;

function field(header: Buffer, start: number, length: number): string {
  const raw = header.subarray(start, start + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? raw.length : end).toString("utf8");
}

function entrySize(header: Buffer): number {
  const raw = header.subarray(124, 136);
  // GNU base-256 for sizes past 8 GiB: the high bit of the first byte is set.
  if ((raw[0] ?? 0) & 0x80) {
    let size = (raw[0] ?? 0) & 0x7f;
    for (const byte of raw.subarray(1)) size = size * 256 + byte;
    return size;
  }
  return Number.parseInt(field(header, 124, 12).trim() || "0", 8);
}

function paxPath(records: string): string | undefined {
  for (const line of records.split("\n")) {
    const match = /^\d+ path=(.*)$/.exec(line);
    if (match) return match[1];
  }
  return undefined;
}

function normalised(name: string): string {
  return name.replace(/^(\.\/)+/, "");
}

/** The regular files of an unpacked tar, in order, with long (GNU and pax) names resolved. */
function* regularFiles(tar: Buffer): Generator<{ name: string; data: Buffer }> {
  let longName: string | undefined;
  let offset = 0;
  while (offset + BLOCK <= tar.length) {
    const header = tar.subarray(offset, offset + BLOCK);
    if (header.every((byte) => byte === 0)) return;
    const size = entrySize(header);
    const type = field(header, 156, 1) || "0";
    const dataStart = offset + BLOCK;
    const data = tar.subarray(dataStart, dataStart + size);
    offset = dataStart + Math.ceil(size / BLOCK) * BLOCK;
    if (type === "L") {
      longName = field(data, 0, data.length);
      continue;
    }
    if (type === "x") {
      longName = paxPath(data.toString("utf8")) ?? longName;
      continue;
    }
    const prefix = field(header, 345, 155);
    const headerName = prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100);
    const name = normalised(longName ?? headerName);
    longName = undefined;
    if (type === "0" || type === "7") yield { name, data };
  }
}

/**
 * The member's bytes, or undefined when the archive does not hold it. Throws when the archive is
 * not gzip or unpacks past `maxUnpackedBytes` (zlib's RangeError), so a huge model cannot
 * exhaust the function's memory.
 */
export function tarGzMember(
  archive: Buffer,
  name: string,
  maxUnpackedBytes = 256 * 1024 * 1024,
): Buffer | undefined {
  const wanted = normalised(name);
  for (const file of regularFiles(gunzipSync(archive, { maxOutputLength: maxUnpackedBytes })))
    if (file.name === wanted) return Buffer.from(file.data);
  return undefined;
}

/** The names of the regular files a (small) .tar.gz holds. */
export function tarGzFileNames(archive: Buffer, maxUnpackedBytes = 1024 * 1024): string[] {
  return [...regularFiles(gunzipSync(archive, { maxOutputLength: maxUnpackedBytes }))].map(
    (file) => file.name,
  );
}
