// s3:// URIs and moving whole prefixes between the local object store and job folders.
import { constants, copyFileSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, relative, sep } from "node:path";
import { AwsError } from "./http.js";
import type { ObjectStore, ObjectVersion } from "./s3-store.js";

export interface S3Location {
  bucket: string;
  key: string;
}

export function parseS3Uri(uri: string): S3Location {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m?.[1]) throw new AwsError("ValidationException", `${uri} is not an s3:// URI`);
  return { bucket: m[1], key: m[2] ?? "" };
}

export function s3Uri(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

/**
 * Copies every object under `prefix` into `folder`, keeping the path after the prefix
 * (SageMaker's S3Prefix semantics: the prefix is a string prefix, not a folder). Returns the
 * number of files written. Keys are opaque strings in S3 but paths here: a key whose path after
 * the prefix has a `.` or `..` segment, or lands on the same file as another key (`a//b` and
 * `a/b`), fails the download before anything is written, as it would fail the job.
 */
export function downloadPrefix(store: ObjectStore, location: S3Location, folder: string): number {
  const base =
    location.key.endsWith("/") || location.key === ""
      ? location.key
      : location.key.slice(0, location.key.lastIndexOf("/") + 1);
  const files = new Map<string, string>();
  const copies: { target: string; version: ObjectVersion }[] = [];
  for (const { key, version } of store.list(location.bucket, location.key)) {
    if (key.endsWith("/")) continue;
    const name =
      key === location.key ? key.slice(key.lastIndexOf("/") + 1) : key.slice(base.length);
    const target = targetPath(folder, name, s3Uri(location.bucket, key));
    const earlier = files.get(target);
    if (earlier !== undefined)
      throw new AwsError(
        "ValidationException",
        `${s3Uri(location.bucket, key)} and ${earlier} would both be downloaded to ${target}`,
      );
    files.set(target, s3Uri(location.bucket, key));
    copies.push({ target, version });
  }
  for (const { target, version } of copies) {
    mkdirSync(dirname(target), { recursive: true });
    copyData(store, location.bucket, version, target);
  }
  return copies.length;
}

export function downloadObject(store: ObjectStore, location: S3Location, target: string): void {
  mkdirSync(dirname(target), { recursive: true });
  copyData(store, location.bucket, store.get(location.bucket, location.key), target);
}

/** Uploads every file under `folder` to `prefix/…`. Returns the keys written. */
export function uploadFolder(store: ObjectStore, folder: string, location: S3Location): string[] {
  const keys: string[] = [];
  const prefix =
    location.key === "" || location.key.endsWith("/") ? location.key : `${location.key}/`;
  for (const path of walk(folder)) {
    const key = `${prefix}${relative(folder, path).split(sep).join("/")}`;
    store.put(location.bucket, key, { file: path });
    keys.push(key);
  }
  return keys;
}

function walk(folder: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(folder);
  } catch {
    return [];
  }
  return entries.sort().flatMap((name) => {
    const path = join(folder, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

/**
 * The file under `folder` for the part of a key after the prefix. `.` and `..` segments are
 * refused rather than resolved, so no key can write outside the folder or over another key's
 * file; empty segments (`a//b`) collapse as a file system collapses them.
 */
function targetPath(folder: string, name: string, uri: string): string {
  const parts = name.split("/").filter((p) => p.length > 0);
  if (parts.length === 0 || parts.some((p) => p === ".." || p === ".")) {
    throw new AwsError(
      "ValidationException",
      `${uri} cannot be downloaded into ${folder}: the key's path after the prefix (${JSON.stringify(name)}) has a "." or ".." segment`,
    );
  }
  const target = join(folder, ...parts);
  const inside = relative(folder, target);
  if (inside === "" || inside === ".." || inside.startsWith(`..${sep}`) || isAbsolute(inside))
    throw new AwsError("ValidationException", `${uri} would be written outside ${folder}`);
  return target;
}

function copyData(
  store: ObjectStore,
  bucket: string,
  version: ObjectVersion,
  target: string,
): void {
  const source = store.dataPath(bucket, version);
  // A copy (a reflink where the file system has them), never a hard link: a job that writes
  // to its input must not change the stored object.
  copyFileSync(source, target, constants.COPYFILE_FICLONE);
}
