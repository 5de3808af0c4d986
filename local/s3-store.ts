// The on-disk object store behind the local S3: buckets with versioning, objects as files,
// and an index per bucket. Used over HTTP by s3.ts and directly by the local SageMaker (which
// copies channels in and uploads outputs, as SageMaker does from inside AWS).
import { createHash, randomBytes, randomUUID } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { readJsonFile, writeJsonAtomic } from "./files.js";
import { AwsError } from "./http.js";

export interface ObjectVersion {
  versionId: string;
  size: number;
  etag: string;
  lastModified: string;
  contentType: string;
  metadata: Record<string, string>;
  deleteMarker: boolean;
  /** Data file name under the bucket's data folder; empty for delete markers. */
  file: string;
}

interface MultipartUpload {
  key: string;
  contentType: string;
  metadata: Record<string, string>;
  initiated: string;
  parts: Record<string, { etag: string; size: number }>;
}

/**
 * A bucket in memory. Keys are opaque strings (S3 never resolves `..`, `.`, `//` or `\`), so
 * they live in Maps: a key such as `__proto__` or `constructor` must not reach a property of a
 * plain object. Object data sits in files named by a random UUID, never by the key.
 */
interface BucketState {
  name: string;
  created: string;
  versioning: "Enabled" | "Suspended" | "Off";
  eventBridge: boolean;
  /** Newest version first. */
  objects: Map<string, ObjectVersion[]>;
  uploads: Map<string, MultipartUpload>;
  /** Stored as given (policy, encryption, public access block): accepted, not enforced. */
  settings: Record<string, string>;
  /** Absent when the bucket has no CORS configuration. */
  cors?: CorsRule[];
}

/** One rule of a bucket's CORS configuration, whether PutBucketCors or the template set it. */
export interface CorsRule {
  id?: string;
  allowedOrigins: string[];
  allowedMethods: string[];
  allowedHeaders: string[];
  exposeHeaders: string[];
  maxAgeSeconds?: number;
}

const CORS_METHODS = new Set(["GET", "PUT", "HEAD", "POST", "DELETE"]);

/** `bucket.json`: the same, with the Maps written as JSON objects (keys as JSON strings). */
interface BucketFile extends Omit<BucketState, "objects" | "uploads"> {
  objects: Record<string, ObjectVersion[]>;
  uploads: Record<string, MultipartUpload>;
}

export interface ObjectCreated {
  bucket: string;
  key: string;
  version: ObjectVersion;
  reason: "PutObject" | "POST Object" | "CopyObject" | "CompleteMultipartUpload";
  sequencer: string;
}

export interface ObjectDeleted {
  bucket: string;
  key: string;
  versionId: string;
  deletionType: "Permanently Deleted" | "Delete Marker Created";
  sequencer: string;
}

/**
 * Where the store reports object changes as they happen; the local cloud sends them on to
 * EventBridge in the shape S3 uses (s3-events.ts).
 */
export interface ObjectEvents {
  created(event: ObjectCreated): void;
  deleted(event: ObjectDeleted): void;
}

/** A store nobody listens to (tests, and tools that open a state dir's objects directly). */
const UNHEARD: ObjectEvents = { created: () => {}, deleted: () => {} };

export type PutSource = { data: Buffer } | { file: string };

export interface PutOptions {
  contentType?: string;
  metadata?: Record<string, string>;
  reason?: ObjectCreated["reason"];
}

const BUCKET_NAME = /^(?!xn--)(?!.*-s3alias$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export class ObjectStore {
  private readonly buckets = new Map<string, BucketState>();
  private sequence = BigInt(Date.now()) * 1000n;

  constructor(
    private readonly root: string,
    private readonly events: ObjectEvents = UNHEARD,
  ) {
    mkdirSync(root, { recursive: true });
    for (const name of readdirSync(root)) {
      const state = readJsonFile(join(root, name, "bucket.json"), undefined);
      if (state) this.buckets.set(name, fromFile(state as BucketFile));
    }
  }

  bucketNames(): { name: string; created: string }[] {
    return [...this.buckets.values()].map((b) => ({ name: b.name, created: b.created }));
  }

  createBucket(name: string, options: { versioning?: boolean; eventBridge?: boolean } = {}): void {
    if (!BUCKET_NAME.test(name))
      throw new AwsError("InvalidBucketName", `The specified bucket is not valid: ${name}`);
    const existing = this.buckets.get(name);
    if (existing) {
      // CloudFormation-created buckets are re-declared on every start: settings follow the template.
      if (options.versioning) existing.versioning = "Enabled";
      if (options.eventBridge !== undefined) existing.eventBridge = options.eventBridge;
      this.save(existing);
      return;
    }
    const state: BucketState = {
      name,
      created: new Date().toISOString(),
      versioning: options.versioning ? "Enabled" : "Off",
      eventBridge: options.eventBridge ?? false,
      objects: new Map(),
      uploads: new Map(),
      settings: {},
    };
    mkdirSync(join(this.root, name, "data"), { recursive: true });
    this.buckets.set(name, state);
    this.save(state);
  }

  deleteBucket(name: string): void {
    const bucket = this.bucket(name);
    if ([...bucket.objects.values()].some((versions) => versions.length > 0)) {
      throw new AwsError("BucketNotEmpty", "The bucket you tried to delete is not empty", 409);
    }
    this.buckets.delete(name);
    rmSync(join(this.root, name), { recursive: true, force: true });
  }

  hasBucket(name: string): boolean {
    return this.buckets.has(name);
  }

  setVersioning(name: string, status: "Enabled" | "Suspended"): void {
    const bucket = this.bucket(name);
    bucket.versioning = status;
    this.save(bucket);
  }

  versioning(name: string): BucketState["versioning"] {
    return this.bucket(name).versioning;
  }

  setEventBridge(name: string, enabled: boolean): void {
    const bucket = this.bucket(name);
    bucket.eventBridge = enabled;
    this.save(bucket);
  }

  eventBridgeEnabled(name: string): boolean {
    return this.bucket(name).eventBridge;
  }

  setSetting(name: string, setting: string, value: string): void {
    const bucket = this.bucket(name);
    bucket.settings[setting] = value;
    this.save(bucket);
  }

  deleteSetting(name: string, setting: string): void {
    const bucket = this.bucket(name);
    delete bucket.settings[setting];
    this.save(bucket);
  }

  setting(name: string, setting: string): string | undefined {
    return this.bucket(name).settings[setting];
  }

  /** Checks the rules as PutBucketCors does; `undefined` removes the configuration. */
  setCors(name: string, rules: CorsRule[] | undefined): void {
    const bucket = this.bucket(name);
    if (rules) {
      checkCorsRules(rules);
      bucket.cors = rules;
    } else delete bucket.cors;
    this.save(bucket);
  }

  cors(name: string): CorsRule[] | undefined {
    return this.bucket(name).cors;
  }

  put(bucketName: string, key: string, source: PutSource, options: PutOptions = {}): ObjectVersion {
    const bucket = this.bucket(bucketName);
    checkKey(key);
    const file = randomUUID();
    const path = join(this.root, bucketName, "data", file);
    const hash = createHash("md5");
    if ("data" in source) {
      writeFileSync(path, source.data);
      hash.update(source.data);
    } else {
      copyFileSync(source.file, path);
      hash.update(readFileBuffer(path));
    }
    const version: ObjectVersion = {
      versionId: this.newVersionId(bucket),
      size: statSync(path).size,
      etag: `"${hash.digest("hex")}"`,
      lastModified: new Date().toISOString(),
      contentType: options.contentType ?? "binary/octet-stream",
      metadata: options.metadata ?? {},
      deleteMarker: false,
      file,
    };
    this.addVersion(bucket, key, version);
    if (bucket.eventBridge) {
      this.events.created({
        bucket: bucketName,
        key,
        version,
        reason: options.reason ?? "PutObject",
        sequencer: this.nextSequencer(),
      });
    }
    return version;
  }

  /** The version asked for (newest when none), or AWS's NoSuchKey / NoSuchVersion. */
  get(bucketName: string, key: string, versionId?: string): ObjectVersion {
    const versions = this.bucket(bucketName).objects.get(key) ?? [];
    if (versionId) {
      const version = versions.find((v) => v.versionId === versionId);
      if (!version)
        throw new AwsError("NoSuchVersion", "The specified version does not exist.", 404, {
          Key: key,
          VersionId: versionId,
        });
      if (version.deleteMarker)
        throw new AwsError(
          "MethodNotAllowed",
          "The specified method is not allowed against this resource.",
          405,
        );
      return version;
    }
    const newest = versions[0];
    if (!newest || newest.deleteMarker)
      throw new AwsError("NoSuchKey", "The specified key does not exist.", 404, { Key: key });
    return newest;
  }

  dataPath(bucketName: string, version: ObjectVersion): string {
    return join(this.root, bucketName, "data", version.file);
  }

  read(bucketName: string, key: string, versionId?: string): Buffer {
    return readFileBuffer(this.dataPath(bucketName, this.get(bucketName, key, versionId)));
  }

  /** Deletes a version, or (on a versioned bucket, with no version named) adds a delete marker. */
  delete(
    bucketName: string,
    key: string,
    versionId?: string,
  ): { versionId?: string; deleteMarker: boolean } {
    const bucket = this.bucket(bucketName);
    const versions = bucket.objects.get(key) ?? [];
    if (versionId) {
      const index = versions.findIndex((v) => v.versionId === versionId);
      if (index < 0) return { versionId, deleteMarker: false };
      const [removed] = versions.splice(index, 1);
      if (removed?.file) rmSync(join(this.root, bucketName, "data", removed.file), { force: true });
      this.saveKey(bucket, key, versions);
      this.events.deleted({
        bucket: bucketName,
        key,
        versionId,
        deletionType: "Permanently Deleted",
        sequencer: this.nextSequencer(),
      });
      return { versionId, deleteMarker: removed?.deleteMarker ?? false };
    }
    if (bucket.versioning === "Off") {
      for (const v of versions)
        if (v.file) rmSync(join(this.root, bucketName, "data", v.file), { force: true });
      this.saveKey(bucket, key, []);
      if (versions.length > 0) {
        this.events.deleted({
          bucket: bucketName,
          key,
          versionId: "null",
          deletionType: "Permanently Deleted",
          sequencer: this.nextSequencer(),
        });
      }
      return { deleteMarker: false };
    }
    const marker: ObjectVersion = {
      versionId: this.newVersionId(bucket),
      size: 0,
      etag: "",
      lastModified: new Date().toISOString(),
      contentType: "",
      metadata: {},
      deleteMarker: true,
      file: "",
    };
    this.addVersion(bucket, key, marker);
    this.events.deleted({
      bucket: bucketName,
      key,
      versionId: marker.versionId,
      deletionType: "Delete Marker Created",
      sequencer: this.nextSequencer(),
    });
    return { versionId: marker.versionId, deleteMarker: true };
  }

  /** Current (non-deleted) objects under a prefix, in key order. */
  list(bucketName: string, prefix = ""): { key: string; version: ObjectVersion }[] {
    return this.listVersions(bucketName, prefix).flatMap(({ key, versions }) => {
      const newest = versions[0];
      return newest && !newest.deleteMarker ? [{ key, version: newest }] : [];
    });
  }

  /** Every key under a prefix (a plain string prefix) with its versions, in UTF-8 binary order. */
  listVersions(bucketName: string, prefix = ""): { key: string; versions: ObjectVersion[] }[] {
    const bucket = this.bucket(bucketName);
    return [...bucket.objects]
      .filter(([key, versions]) => key.startsWith(prefix) && versions.length > 0)
      .map(([key, versions]) => ({ key, versions, bytes: Buffer.from(key) }))
      .sort((a, b) => Buffer.compare(a.bytes, b.bytes))
      .map(({ key, versions }) => ({ key, versions }));
  }

  createUpload(bucketName: string, key: string, options: PutOptions): string {
    const bucket = this.bucket(bucketName);
    checkKey(key);
    const uploadId = randomBytes(24).toString("base64url");
    bucket.uploads.set(uploadId, {
      key,
      contentType: options.contentType ?? "binary/octet-stream",
      metadata: options.metadata ?? {},
      initiated: new Date().toISOString(),
      parts: {},
    });
    mkdirSync(join(this.root, bucketName, "uploads", uploadId), { recursive: true });
    this.save(bucket);
    return uploadId;
  }

  putPart(
    bucketName: string,
    key: string,
    uploadId: string,
    partNumber: number,
    data: Buffer,
  ): string {
    const bucket = this.bucket(bucketName);
    const upload = this.upload(bucket, key, uploadId);
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10000) {
      throw new AwsError(
        "InvalidArgument",
        "Part number must be an integer between 1 and 10000, inclusive",
      );
    }
    writeFileSync(join(this.root, bucketName, "uploads", uploadId, String(partNumber)), data);
    const etag = `"${createHash("md5").update(data).digest("hex")}"`;
    upload.parts[String(partNumber)] = { etag, size: data.length };
    this.save(bucket);
    return etag;
  }

  completeUpload(
    bucketName: string,
    key: string,
    uploadId: string,
    parts: { partNumber: number; etag: string }[],
  ): ObjectVersion {
    const bucket = this.bucket(bucketName);
    const upload = this.upload(bucket, key, uploadId);
    if (parts.length === 0)
      throw new AwsError(
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema",
      );
    const folder = join(this.root, bucketName, "uploads", uploadId);
    const digests: Buffer[] = [];
    const buffers: Buffer[] = [];
    let previous = 0;
    for (const [index, part] of parts.entries()) {
      if (part.partNumber <= previous)
        throw new AwsError("InvalidPartOrder", "The list of parts was not in ascending order.");
      previous = part.partNumber;
      const stored = upload.parts[String(part.partNumber)];
      if (!stored || stored.etag.replaceAll('"', "") !== part.etag.replaceAll('"', "")) {
        throw new AwsError("InvalidPart", "One or more of the specified parts could not be found.");
      }
      if (index < parts.length - 1 && stored.size < 5 * 1024 * 1024) {
        throw new AwsError(
          "EntityTooSmall",
          "Your proposed upload is smaller than the minimum allowed object size.",
        );
      }
      const data = readFileBuffer(join(folder, String(part.partNumber)));
      digests.push(createHash("md5").update(data).digest());
      buffers.push(data);
    }
    const version = this.put(
      bucketName,
      key,
      { data: Buffer.concat(buffers) },
      {
        contentType: upload.contentType,
        metadata: upload.metadata,
        reason: "CompleteMultipartUpload",
      },
    );
    // S3's multipart ETag: md5 of the parts' md5s, then "-<part count>".
    version.etag = `"${createHash("md5").update(Buffer.concat(digests)).digest("hex")}-${parts.length}"`;
    bucket.uploads.delete(uploadId);
    this.save(bucket);
    rmSync(folder, { recursive: true, force: true });
    return version;
  }

  abortUpload(bucketName: string, key: string, uploadId: string): void {
    const bucket = this.bucket(bucketName);
    this.upload(bucket, key, uploadId);
    bucket.uploads.delete(uploadId);
    this.save(bucket);
    rmSync(join(this.root, bucketName, "uploads", uploadId), { recursive: true, force: true });
  }

  private upload(bucket: BucketState, key: string, uploadId: string): MultipartUpload {
    const upload = bucket.uploads.get(uploadId);
    if (!upload || upload.key !== key) {
      throw new AwsError(
        "NoSuchUpload",
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
        404,
      );
    }
    return upload;
  }

  private bucket(name: string): BucketState {
    const bucket = this.buckets.get(name);
    if (!bucket)
      throw new AwsError("NoSuchBucket", "The specified bucket does not exist", 404, {
        BucketName: name,
      });
    return bucket;
  }

  private newVersionId(bucket: BucketState): string {
    return bucket.versioning === "Enabled" ? randomBytes(24).toString("base64url") : "null";
  }

  private addVersion(bucket: BucketState, key: string, version: ObjectVersion): void {
    const versions = bucket.objects.get(key) ?? [];
    if (version.versionId === "null") {
      // Unversioned (or suspended) writes replace the "null" version in place.
      const old = versions.findIndex((v) => v.versionId === "null");
      if (old >= 0) {
        const [replaced] = versions.splice(old, 1);
        if (replaced?.file)
          rmSync(join(this.root, bucket.name, "data", replaced.file), { force: true });
      }
    }
    versions.unshift(version);
    this.saveKey(bucket, key, versions);
  }

  private saveKey(bucket: BucketState, key: string, versions: ObjectVersion[]): void {
    if (versions.length === 0) bucket.objects.delete(key);
    else bucket.objects.set(key, versions);
    this.save(bucket);
  }

  private save(bucket: BucketState): void {
    writeJsonAtomic(join(this.root, bucket.name, "bucket.json"), toFile(bucket));
  }

  private nextSequencer(): string {
    this.sequence += 1n;
    return this.sequence.toString(16).toUpperCase().padStart(18, "0");
  }
}

function fromFile(file: BucketFile): BucketState {
  // JSON.parse makes every key, `__proto__` included, an own property: Object.entries sees them all.
  return {
    ...file,
    objects: new Map(Object.entries(file.objects ?? {})),
    uploads: new Map(Object.entries(file.uploads ?? {})),
  };
}

function toFile(bucket: BucketState): BucketFile {
  // Object.fromEntries defines own properties, so `__proto__` is written as a key, not a prototype.
  return {
    ...bucket,
    objects: Object.fromEntries(bucket.objects),
    uploads: Object.fromEntries(bucket.uploads),
  };
}

function checkCorsRules(rules: CorsRule[]): void {
  const malformed = new AwsError(
    "MalformedXML",
    "The XML you provided was not well-formed or did not validate against our published schema",
  );
  if (rules.length === 0 || rules.length > 100) throw malformed;
  for (const rule of rules) {
    if (rule.allowedOrigins.length === 0 || rule.allowedMethods.length === 0) throw malformed;
    const unsupported = rule.allowedMethods.find((method) => !CORS_METHODS.has(method));
    if (unsupported !== undefined)
      throw new AwsError(
        "InvalidRequest",
        `Found unsupported HTTP method in CORS config. Unsupported method is ${unsupported}`,
      );
    for (const [element, values] of [
      ["AllowedOrigin", rule.allowedOrigins],
      ["AllowedHeader", rule.allowedHeaders],
    ] as const) {
      const wild = values.find((value) => value.split("*").length > 2);
      if (wild !== undefined)
        throw new AwsError(
          "InvalidRequest",
          `${element} "${wild}" can not have more than one wildcard.`,
        );
    }
    if (
      rule.maxAgeSeconds !== undefined &&
      (!Number.isInteger(rule.maxAgeSeconds) || rule.maxAgeSeconds < 0)
    )
      throw malformed;
  }
}

function checkKey(key: string): void {
  if (key.length === 0) throw new AwsError("InvalidArgument", "An object key must not be empty");
  if (Buffer.byteLength(key) > 1024) throw new AwsError("KeyTooLongError", "Your key is too long");
}

/** S3 lists keys in UTF-8 binary order. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function readFileBuffer(path: string): Buffer {
  if (!existsSync(path))
    throw new AwsError("InternalError", `object data is missing on disk: ${path}`, 500);
  return readFileSync(path);
}
