// s3:// URIs and moving whole prefixes between the local object store and job folders.
import { constants, copyFileSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { AwsError } from "./http.js";
import type { ObjectStore } from "./s3-store.js";

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
 * (SageMaker's S3Prefix semantics: the prefix is a string prefix, not a folder). Returns the count.
 */
export function downloadPrefix(store: ObjectStore, location: S3Location, folder: string): number {
  const objects = store.list(location.bucket, location.key);
  const base =
    location.key.endsWith("/") || location.key === ""
      ? location.key
      : location.key.slice(0, location.key.lastIndexOf("/") + 1);
  for (const { key, version } of objects) {
    if (key.endsWith("/")) continue;
    const exact = key === location.key;
    const name = exact
      ? key.slice(key.lastIndexOf("/") + 1)
      : key.slice(location.key.endsWith("/") ? location.key.length : base.length);
    const target = join(folder, ...safeParts(name));
    mkdirSync(dirname(target), { recursive: true });
    copyData(store, location.bucket, version, target);
  }
  return objects.length;
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

/** Object keys become paths: `..` and empty segments are refused so a key cannot escape the folder. */
function safeParts(name: string): string[] {
  const parts = name.split("/").filter((p) => p.length > 0);
  if (parts.length === 0 || parts.some((p) => p === ".." || p === ".")) {
    throw new AwsError(
      "ValidationException",
      `the object key part ${JSON.stringify(name)} cannot be used as a file path`,
    );
  }
  return parts;
}

function copyData(
  store: ObjectStore,
  bucket: string,
  version: Parameters<ObjectStore["dataPath"]>[1],
  target: string,
): void {
  const source = store.dataPath(bucket, version);
  // A copy (a reflink where the file system has them), never a hard link: a job that writes
  // to its input must not change the stored object.
  copyFileSync(source, target, constants.COPYFILE_FICLONE);
}
