// The local S3 over HTTP: path-style REST-XML requests as the AWS SDK sends them with
// `forcePathStyle: true`, presigned GET/PUT URLs (expiry checked) and browser POST uploads
// with their policy enforced, and bucket CORS (preflights, and the headers on allowed answers).
// Storage and versioning live in s3-store.ts.
import type { IncomingMessage, ServerResponse } from "node:http";
import { XMLParser } from "fast-xml-parser";
import { AwsError, escapeXml, isRecord, readBody, requestId, sendXml } from "./http.js";
import type { CorsRule, ObjectStore, ObjectVersion } from "./s3-store.js";
import { compareKeys } from "./s3-store.js";
import { parseAmzDate } from "./sigv4.js";

const XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/";
const xml = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  isArray: (name) =>
    [
      "Part",
      "Object",
      "CORSRule",
      "AllowedOrigin",
      "AllowedMethod",
      "AllowedHeader",
      "ExposeHeader",
    ].includes(name),
});
/** For bodies that carry keys (DeleteObjects): values kept verbatim, character references decoded. */
const keysXml = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: false,
  htmlEntities: true,
  isArray: (name) => name === "Object",
});

const FILENAME_PLACEHOLDER = "$" + "{filename}";

export class S3Service {
  /** The local cloud has one region and one account: every bucket is in them. */
  constructor(
    private readonly store: ObjectStore,
    private readonly region: string,
    private readonly account: string,
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    try {
      if (req.method === "OPTIONS") return this.preflight(req, res);
      this.allowCors(req, res);
      checkPresignedExpiry(url.searchParams);
      await this.route(req, res, url);
    } catch (error) {
      sendS3Error(
        res,
        error instanceof AwsError ? error : new AwsError("InternalError", String(error), 500),
        req.method === "HEAD",
      );
    }
  }

  private async route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const [bucket, key] = splitPath(requestPath(req.url ?? "/"));
    const method = req.method ?? "GET";
    const q = url.searchParams;
    if (!bucket) {
      if (method === "GET") return this.listBuckets(res);
      throw new AwsError(
        "MethodNotAllowed",
        "The specified method is not allowed against this resource.",
        405,
      );
    }
    const expectedOwner = req.headers["x-amz-expected-bucket-owner"];
    if (expectedOwner !== undefined && expectedOwner !== this.account)
      throw new AwsError("AccessDenied", "Access Denied", 403);
    if (key === undefined) return this.bucketRequest(req, res, method, bucket, q);
    if (method === "PUT" && q.has("uploadId")) return this.uploadPart(req, res, bucket, key, q);
    if (method === "PUT" && req.headers["x-amz-copy-source"])
      return this.copyObject(req, res, bucket, key);
    if (method === "PUT") return this.putObject(req, res, bucket, key);
    if (method === "GET" || method === "HEAD")
      return this.getObject(req, res, bucket, key, q, method === "HEAD");
    if (method === "DELETE" && q.has("uploadId")) {
      this.store.abortUpload(bucket, key, q.get("uploadId") ?? "");
      return end(res, 204);
    }
    if (method === "DELETE") return this.deleteObject(res, bucket, key, q);
    if (method === "POST" && q.has("uploads")) return this.createUpload(req, res, bucket, key);
    if (method === "POST" && q.has("uploadId"))
      return this.completeUpload(req, res, bucket, key, q);
    throw new AwsError(
      "MethodNotAllowed",
      "The specified method is not allowed against this resource.",
      405,
    );
  }

  /** A browser's CORS preflight, unsigned: the first rule that allows it answers it. */
  private preflight(req: IncomingMessage, res: ServerResponse): void {
    const [bucket, key] = splitPath(requestPath(req.url ?? "/"));
    const origin = req.headers.origin;
    const method = req.headers["access-control-request-method"];
    if (!bucket)
      throw new AwsError(
        "MethodNotAllowed",
        "The specified method is not allowed against this resource.",
        405,
      );
    if (!origin)
      throw new AwsError("BadRequest", "Insufficient information. Origin request header needed.");
    if (typeof method !== "string")
      throw new AwsError("BadRequest", "Invalid Access-Control-Request-Method: null");
    const rules = this.store.cors(bucket);
    if (!rules)
      throw new AwsError(
        "AccessForbidden",
        "CORSResponse: CORS is not enabled for this bucket.",
        403,
        { Method: method, ResourceType: "BUCKET" },
      );
    const requested = String(req.headers["access-control-request-headers"] ?? "")
      .split(",")
      .map((name) => name.trim())
      .filter(Boolean);
    const allowed = corsHeaders(rules, origin, method, requested);
    if (!allowed)
      throw new AwsError(
        "AccessForbidden",
        "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
        403,
        { Method: method, ResourceType: key === undefined ? "BUCKET" : "OBJECT" },
      );
    if (requested.length > 0) allowed["access-control-allow-headers"] = requested.join(", ");
    res.writeHead(200, { ...allowed, "content-length": "0" });
    res.end();
  }

  /**
   * An answer to an origin that a rule allows for the method carries the rule's headers, error
   * answers too, as S3 sends them; otherwise none, and the browser keeps the answer from the
   * page. CORS never fails a request itself.
   */
  private allowCors(req: IncomingMessage, res: ServerResponse): void {
    const origin = req.headers.origin;
    if (!origin) return;
    let bucket: string | undefined;
    try {
      [bucket] = splitPath(requestPath(req.url ?? "/"));
    } catch {
      return; // the request itself answers InvalidURI
    }
    const rules = bucket && this.store.hasBucket(bucket) ? this.store.cors(bucket) : undefined;
    const allowed = rules && corsHeaders(rules, origin, req.method ?? "GET", []);
    for (const [name, value] of Object.entries(allowed ?? {})) res.setHeader(name, value);
  }

  private listBuckets(res: ServerResponse): void {
    const buckets = this.store
      .bucketNames()
      .map(
        (b) =>
          `<Bucket><Name>${escapeXml(b.name)}</Name><CreationDate>${b.created}</CreationDate></Bucket>`,
      )
      .join("");
    sendXml(
      res,
      200,
      `<ListAllMyBucketsResult xmlns="${XMLNS}"><Owner><ID>local</ID></Owner><Buckets>${buckets}</Buckets></ListAllMyBucketsResult>`,
    );
  }

  private async bucketRequest(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    bucket: string,
    q: URLSearchParams,
  ): Promise<void> {
    if (method === "PUT" && q.has("versioning")) {
      const body = parseXml(await readBody(req));
      const status = textAt(body, "VersioningConfiguration", "Status");
      if (status !== "Enabled" && status !== "Suspended")
        throw new AwsError(
          "MalformedXML",
          "VersioningConfiguration Status must be Enabled or Suspended",
        );
      this.store.setVersioning(bucket, status);
      return end(res, 200);
    }
    if (method === "GET" && q.has("versioning")) {
      const status = this.store.versioning(bucket);
      const inner = status === "Off" ? "" : `<Status>${status}</Status>`;
      return sendXml(
        res,
        200,
        `<VersioningConfiguration xmlns="${XMLNS}">${inner}</VersioningConfiguration>`,
      );
    }
    if (method === "PUT" && q.has("notification")) {
      const body = parseXml(await readBody(req));
      const config = isRecord(body) ? body.NotificationConfiguration : undefined;
      this.store.setEventBridge(bucket, isRecord(config) && "EventBridgeConfiguration" in config);
      return end(res, 200);
    }
    if (method === "GET" && q.has("notification")) {
      const inner = this.store.eventBridgeEnabled(bucket)
        ? "<EventBridgeConfiguration></EventBridgeConfiguration>"
        : "";
      return sendXml(
        res,
        200,
        `<NotificationConfiguration xmlns="${XMLNS}">${inner}</NotificationConfiguration>`,
      );
    }
    if (method === "GET" && q.has("location")) {
      this.store.versioning(bucket); // NoSuchBucket when there is none
      // us-east-1 is the one region S3 answers with an empty constraint.
      const constraint = this.region === "us-east-1" ? "" : escapeXml(this.region);
      return sendXml(
        res,
        200,
        `<LocationConstraint xmlns="${XMLNS}">${constraint}</LocationConstraint>`,
      );
    }
    if (q.has("cors")) return this.bucketCors(req, res, method, bucket);
    const setting = ["policy", "encryption", "publicAccessBlock", "tagging", "lifecycle"].find(
      (name) => q.has(name),
    );
    if (setting && method === "PUT") {
      this.store.setSetting(bucket, setting, (await readBody(req)).toString("utf8"));
      return end(res, setting === "policy" ? 204 : 200);
    }
    if (setting && method === "GET") {
      const stored = this.store.setting(bucket, setting);
      if (stored === undefined)
        throw new AwsError(
          `NoSuch${setting[0]?.toUpperCase()}${setting.slice(1)}`,
          `The bucket has no ${setting} configuration`,
          404,
        );
      if (setting === "policy") {
        res.writeHead(200, { "content-type": "application/json" });
        return void res.end(stored);
      }
      return sendXml(res, 200, stored.replace(/^<\?xml[^>]*>\s*/, ""));
    }
    if (setting && method === "DELETE") {
      this.store.deleteSetting(bucket, setting);
      return end(res, 204);
    }
    if (method === "PUT") return this.createBucket(req, res, bucket);
    if (method === "HEAD") {
      if (!this.store.hasBucket(bucket)) throw new AwsError("NotFound", "Not Found", 404);
      res.writeHead(200, { "x-amz-bucket-region": this.region });
      return void res.end();
    }
    if (method === "DELETE") {
      this.store.deleteBucket(bucket);
      return end(res, 204);
    }
    if (method === "GET" && q.has("versions")) return this.listVersions(res, bucket, q);
    if (method === "GET") return this.listObjects(res, bucket, q);
    if (method === "POST" && q.has("delete")) return this.deleteObjects(req, res, bucket);
    if (
      method === "POST" &&
      String(req.headers["content-type"] ?? "").startsWith("multipart/form-data")
    ) {
      return this.postObject(req, res, bucket);
    }
    throw new AwsError(
      "MethodNotAllowed",
      "The specified method is not allowed against this resource.",
      405,
    );
  }

  /** Put/Get/DeleteBucketCors: the rules are kept parsed (the preflight evaluates them) and rendered for GET. */
  private async bucketCors(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    bucket: string,
  ): Promise<void> {
    if (method === "PUT") {
      this.store.setCors(bucket, parseCorsConfiguration(parseXml(await readBody(req))));
      return end(res, 200);
    }
    if (method === "DELETE") {
      this.store.setCors(bucket, undefined);
      return end(res, 204);
    }
    if (method !== "GET")
      throw new AwsError(
        "MethodNotAllowed",
        "The specified method is not allowed against this resource.",
        405,
      );
    const rules = this.store.cors(bucket);
    if (!rules)
      throw new AwsError("NoSuchCORSConfiguration", "The CORS configuration does not exist", 404, {
        BucketName: bucket,
      });
    sendXml(
      res,
      200,
      `<CORSConfiguration xmlns="${XMLNS}">${rules.map(corsRuleXml).join("")}</CORSConfiguration>`,
    );
  }

  /**
   * CreateBucket as S3 answers it: an optional CreateBucketConfiguration whose LocationConstraint
   * must name the endpoint's region (and is refused for us-east-1, which takes none), and a
   * bucket that exists already is BucketAlreadyOwnedByYou, except in us-east-1, which answers
   * 200 for its owner's own bucket.
   */
  private async createBucket(
    req: IncomingMessage,
    res: ServerResponse,
    bucket: string,
  ): Promise<void> {
    const body = await readBody(req);
    const constraint =
      body.length > 0
        ? textAt(parseXml(body), "CreateBucketConfiguration", "LocationConstraint")
        : undefined;
    if (constraint !== undefined && constraint !== "") {
      if (this.region === "us-east-1" && constraint === "us-east-1")
        throw new AwsError(
          "InvalidLocationConstraint",
          "The specified location-constraint is not valid",
          400,
          {
            LocationConstraint: constraint,
          },
        );
      if (constraint !== this.region)
        throw new AwsError(
          "IllegalLocationConstraintException",
          `The ${constraint} location constraint is incompatible for the region specific endpoint this request was sent to.`,
        );
    }
    if (this.store.hasBucket(bucket) && this.region !== "us-east-1")
      throw new AwsError(
        "BucketAlreadyOwnedByYou",
        "Your previous request to create the named bucket succeeded and you already own it.",
        409,
        { BucketName: bucket },
      );
    this.store.createBucket(bucket);
    res.writeHead(200, { location: `/${bucket}` });
    res.end();
  }

  private listObjects(res: ServerResponse, bucket: string, q: URLSearchParams): void {
    const v2 = q.get("list-type") === "2";
    const prefix = q.get("prefix") ?? "";
    const delimiter = q.get("delimiter") ?? "";
    const maxKeys = clampMaxKeys(q.get("max-keys"));
    const encode =
      q.get("encoding-type") === "url"
        ? (s: string) => encodeURIComponent(s).replaceAll("%2F", "/")
        : (s: string) => s;
    const after = v2
      ? (decodeToken(q.get("continuation-token")) ?? q.get("start-after") ?? "")
      : (q.get("marker") ?? "");
    const contents: string[] = [];
    const prefixes = new Set<string>();
    let truncated = false;
    let last = "";
    for (const { key, version } of this.store.list(bucket, prefix)) {
      if (after && compareKeys(key, after) <= 0) continue;
      const rolled = delimiter ? rollUp(key, prefix, delimiter) : undefined;
      if (rolled !== undefined && prefixes.has(rolled)) continue;
      if (contents.length + prefixes.size >= maxKeys) {
        truncated = true;
        break;
      }
      if (rolled !== undefined) {
        prefixes.add(rolled);
        // Skip the rest of this common prefix by continuing after its last possible key.
        last = `${rolled}\u{10FFFF}`;
        continue;
      }
      last = key;
      contents.push(
        `<Contents><Key>${xmlKey(encode(key))}</Key><LastModified>${version.lastModified}</LastModified><ETag>${escapeXml(version.etag)}</ETag><Size>${version.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`,
      );
    }
    const common = [...prefixes]
      .map((p) => `<CommonPrefixes><Prefix>${xmlKey(encode(p))}</Prefix></CommonPrefixes>`)
      .join("");
    const paging = v2
      ? `<KeyCount>${contents.length + prefixes.size}</KeyCount>${truncated ? `<NextContinuationToken>${encodeToken(last)}</NextContinuationToken>` : ""}${q.has("continuation-token") ? `<ContinuationToken>${escapeXml(q.get("continuation-token") ?? "")}</ContinuationToken>` : ""}`
      : `<Marker>${xmlKey(encode(q.get("marker") ?? ""))}</Marker>${truncated && delimiter ? `<NextMarker>${xmlKey(encode(last))}</NextMarker>` : ""}`;
    sendXml(
      res,
      200,
      `<ListBucketResult xmlns="${XMLNS}"><Name>${escapeXml(bucket)}</Name><Prefix>${xmlKey(encode(prefix))}</Prefix>${delimiter ? `<Delimiter>${xmlKey(encode(delimiter))}</Delimiter>` : ""}<MaxKeys>${maxKeys}</MaxKeys>${q.has("encoding-type") ? "<EncodingType>url</EncodingType>" : ""}<IsTruncated>${truncated}</IsTruncated>${paging}${contents.join("")}${common}</ListBucketResult>`,
    );
  }

  private listVersions(res: ServerResponse, bucket: string, q: URLSearchParams): void {
    const prefix = q.get("prefix") ?? "";
    const entries = this.store.listVersions(bucket, prefix).flatMap(({ key, versions }) =>
      versions.map((v, index) => {
        const common = `<Key>${xmlKey(key)}</Key><VersionId>${escapeXml(v.versionId)}</VersionId><IsLatest>${index === 0}</IsLatest><LastModified>${v.lastModified}</LastModified>`;
        return v.deleteMarker
          ? `<DeleteMarker>${common}</DeleteMarker>`
          : `<Version>${common}<ETag>${escapeXml(v.etag)}</ETag><Size>${v.size}</Size><StorageClass>STANDARD</StorageClass></Version>`;
      }),
    );
    sendXml(
      res,
      200,
      `<ListVersionsResult xmlns="${XMLNS}"><Name>${escapeXml(bucket)}</Name><Prefix>${xmlKey(prefix)}</Prefix><MaxKeys>${entries.length}</MaxKeys><IsTruncated>false</IsTruncated>${entries.join("")}</ListVersionsResult>`,
    );
  }

  private async putObject(
    req: IncomingMessage,
    res: ServerResponse,
    bucket: string,
    key: string,
  ): Promise<void> {
    const data = decodeContent(req, await readBody(req));
    if (req.headers["if-none-match"] === "*" && this.exists(bucket, key)) {
      throw new AwsError(
        "PreconditionFailed",
        "At least one of the pre-conditions you specified did not hold",
        412,
        { Condition: "If-None-Match" },
      );
    }
    const version = this.store.put(
      bucket,
      key,
      { data },
      { contentType: contentTypeOf(req), metadata: metadataOf(req) },
    );
    res.writeHead(200, { etag: version.etag, ...this.versionHeader(bucket, version) });
    res.end();
  }

  private async copyObject(
    req: IncomingMessage,
    res: ServerResponse,
    bucket: string,
    key: string,
  ): Promise<void> {
    await readBody(req);
    const source = parseCopySource(String(req.headers["x-amz-copy-source"]));
    const original = this.store.get(source.bucket, source.key, source.versionId);
    const replace = req.headers["x-amz-metadata-directive"] === "REPLACE";
    const version = this.store.put(
      bucket,
      key,
      { file: this.store.dataPath(source.bucket, original) },
      {
        contentType: replace ? contentTypeOf(req) : original.contentType,
        metadata: replace ? metadataOf(req) : original.metadata,
        reason: "CopyObject",
      },
    );
    const headers: Record<string, string> = { ...this.versionHeader(bucket, version) };
    if (this.store.versioning(source.bucket) !== "Off")
      headers["x-amz-copy-source-version-id"] = original.versionId;
    sendXml(
      res,
      200,
      `<CopyObjectResult><ETag>${escapeXml(version.etag)}</ETag><LastModified>${version.lastModified}</LastModified></CopyObjectResult>`,
      headers,
    );
  }

  private getObject(
    req: IncomingMessage,
    res: ServerResponse,
    bucket: string,
    key: string,
    q: URLSearchParams,
    head: boolean,
  ): void {
    const version = this.store.get(bucket, key, q.get("versionId") ?? undefined);
    const headers: Record<string, string> = {
      etag: version.etag,
      "last-modified": new Date(version.lastModified).toUTCString(),
      "content-type": version.contentType,
      "accept-ranges": "bytes",
      ...this.versionHeader(bucket, version),
    };
    for (const [name, value] of Object.entries(version.metadata))
      headers[`x-amz-meta-${name}`] = encodeHeader(value);
    const ifNoneMatch = req.headers["if-none-match"];
    if (ifNoneMatch && ifNoneMatch === version.etag) {
      res.writeHead(304, headers);
      return void res.end();
    }
    const range = parseRange(req.headers.range, version.size);
    const data = head ? Buffer.alloc(0) : this.store.read(bucket, key, version.versionId);
    if (range) {
      headers["content-range"] = `bytes ${range.start}-${range.end}/${version.size}`;
      headers["content-length"] = String(range.end - range.start + 1);
      res.writeHead(206, headers);
      return void res.end(head ? undefined : data.subarray(range.start, range.end + 1));
    }
    headers["content-length"] = String(version.size);
    res.writeHead(200, headers);
    res.end(head ? undefined : data);
  }

  private deleteObject(res: ServerResponse, bucket: string, key: string, q: URLSearchParams): void {
    const result = this.store.delete(bucket, key, q.get("versionId") ?? undefined);
    const headers: Record<string, string> = {};
    if (result.versionId) headers["x-amz-version-id"] = result.versionId;
    if (result.deleteMarker) headers["x-amz-delete-marker"] = "true";
    res.writeHead(204, headers);
    res.end();
  }

  private async deleteObjects(
    req: IncomingMessage,
    res: ServerResponse,
    bucket: string,
  ): Promise<void> {
    const body = parseXml(decodeContent(req, await readBody(req)), keysXml);
    const request = isRecord(body) ? body.Delete : undefined;
    const objects = isRecord(request) && Array.isArray(request.Object) ? request.Object : [];
    const deleted = objects.flatMap((entry: unknown) => {
      if (!isRecord(entry) || typeof entry.Key !== "string") return [];
      const versionId = typeof entry.VersionId === "string" ? entry.VersionId : undefined;
      const result = this.store.delete(bucket, entry.Key, versionId);
      return [
        `<Deleted><Key>${xmlKey(entry.Key)}</Key>${result.versionId ? `<VersionId>${escapeXml(result.versionId)}</VersionId>` : ""}${result.deleteMarker ? "<DeleteMarker>true</DeleteMarker>" : ""}</Deleted>`,
      ];
    });
    sendXml(res, 200, `<DeleteResult xmlns="${XMLNS}">${deleted.join("")}</DeleteResult>`);
  }

  private async createUpload(
    req: IncomingMessage,
    res: ServerResponse,
    bucket: string,
    key: string,
  ): Promise<void> {
    await readBody(req);
    const uploadId = this.store.createUpload(bucket, key, {
      contentType: contentTypeOf(req),
      metadata: metadataOf(req),
    });
    sendXml(
      res,
      200,
      `<InitiateMultipartUploadResult xmlns="${XMLNS}"><Bucket>${escapeXml(bucket)}</Bucket><Key>${xmlKey(key)}</Key><UploadId>${uploadId}</UploadId></InitiateMultipartUploadResult>`,
    );
  }

  private async uploadPart(
    req: IncomingMessage,
    res: ServerResponse,
    bucket: string,
    key: string,
    q: URLSearchParams,
  ): Promise<void> {
    const data = decodeContent(req, await readBody(req));
    const etag = this.store.putPart(
      bucket,
      key,
      q.get("uploadId") ?? "",
      Number(q.get("partNumber")),
      data,
    );
    res.writeHead(200, { etag });
    res.end();
  }

  private async completeUpload(
    req: IncomingMessage,
    res: ServerResponse,
    bucket: string,
    key: string,
    q: URLSearchParams,
  ): Promise<void> {
    const body = parseXml(await readBody(req));
    const complete = isRecord(body) ? body.CompleteMultipartUpload : undefined;
    const parts = (isRecord(complete) && Array.isArray(complete.Part) ? complete.Part : []).flatMap(
      (p: unknown) =>
        isRecord(p) && typeof p.ETag === "string"
          ? [{ partNumber: Number(p.PartNumber), etag: p.ETag }]
          : [],
    );
    const version = this.store.completeUpload(bucket, key, q.get("uploadId") ?? "", parts);
    sendXml(
      res,
      200,
      `<CompleteMultipartUploadResult xmlns="${XMLNS}"><Location>/${escapeXml(bucket)}/${escapeXml(encodeKeyPath(key))}</Location><Bucket>${escapeXml(bucket)}</Bucket><Key>${xmlKey(key)}</Key><ETag>${escapeXml(version.etag)}</ETag></CompleteMultipartUploadResult>`,
      this.versionHeader(bucket, version),
    );
  }

  /** A browser upload (presigned POST): the policy's conditions are enforced as S3 enforces them. */
  private async postObject(
    req: IncomingMessage,
    res: ServerResponse,
    bucket: string,
  ): Promise<void> {
    const form = parseMultipart(await readBody(req), String(req.headers["content-type"]));
    const fields = new Map<string, string>();
    for (const [name, value] of form.fields) fields.set(name.toLowerCase(), value);
    if (!form.file)
      throw new AwsError("InvalidArgument", "POST requires exactly one file upload per request.");
    const rawKey = fields.get("key");
    if (!rawKey)
      throw new AwsError("InvalidArgument", "Bucket POST must contain a field named 'key'.");
    // S3 replaces the literal ${filename} placeholder with the uploaded file name.
    const key = rawKey.replaceAll(FILENAME_PLACEHOLDER, form.file.filename);
    fields.set("key", key);
    fields.set("bucket", bucket);
    enforcePostPolicy(fields.get("policy"), fields, form.file.data.length);
    const metadata: Record<string, string> = {};
    for (const [name, value] of fields)
      if (name.startsWith("x-amz-meta-")) metadata[name.slice("x-amz-meta-".length)] = value;
    const version = this.store.put(
      bucket,
      key,
      { data: form.file.data },
      {
        contentType: fields.get("content-type") ?? form.file.contentType,
        metadata,
        reason: "POST Object",
      },
    );
    const headers = {
      etag: version.etag,
      location: `/${bucket}/${encodeKeyPath(key)}`,
      ...this.versionHeader(bucket, version),
    };
    const status = fields.get("success_action_status");
    if (status === "201") {
      return sendXml(
        res,
        201,
        `<PostResponse><Location>/${escapeXml(bucket)}/${escapeXml(encodeKeyPath(key))}</Location><Bucket>${escapeXml(bucket)}</Bucket><Key>${xmlKey(key)}</Key><ETag>${escapeXml(version.etag)}</ETag></PostResponse>`,
        headers,
      );
    }
    res.writeHead(status === "200" ? 200 : 204, headers);
    res.end();
  }

  private exists(bucket: string, key: string): boolean {
    try {
      this.store.get(bucket, key);
      return true;
    } catch {
      return false;
    }
  }

  private versionHeader(bucket: string, version: ObjectVersion): Record<string, string> {
    return this.store.versioning(bucket) === "Off" ? {} : { "x-amz-version-id": version.versionId };
  }
}

function end(res: ServerResponse, status: number): void {
  res.writeHead(status);
  res.end();
}

function sendS3Error(res: ServerResponse, error: AwsError, head: boolean): void {
  if (res.headersSent) return void res.destroy();
  const extra = Object.entries(error.extra)
    .map(([name, value]) => `<${name}>${xmlKey(String(value))}</${name}>`)
    .join("");
  if (head) {
    res.writeHead(error.status, { "x-amz-error-code": error.code });
    return void res.end();
  }
  sendXml(
    res,
    error.status,
    `<Error><Code>${error.code}</Code><Message>${escapeXml(error.message)}</Message>${extra}<RequestId>${requestId()}</RequestId></Error>`,
  );
}

/**
 * The path of a request exactly as the client sent it. `new URL()` would resolve `.` and `..`
 * segments (`%2E%2E` too) and turn `\` into `/`; S3 keys are opaque strings, and the SDKs and the
 * CLI send such segments literally.
 */
export function requestPath(requestTarget: string): string {
  const path = requestTarget.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?]*/i, "");
  const query = path.indexOf("?");
  return query < 0 ? path : path.slice(0, query);
}

/** `/bucket/key/with/slashes` → [bucket, key], each percent-decoded once and never normalised. */
export function splitPath(pathname: string): [string | undefined, string | undefined] {
  const trimmed = pathname.replace(/^\/+/, "");
  if (!trimmed) return [undefined, undefined];
  const slash = trimmed.indexOf("/");
  if (slash < 0) return [decodePathPart(trimmed), undefined];
  const key = trimmed.slice(slash + 1);
  return [decodePathPart(trimmed.slice(0, slash)), key ? decodePathPart(key) : undefined];
}

function decodePathPart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new AwsError("InvalidURI", "Couldn't parse the specified URI.", 400, { URI: part });
  }
}

/** A key as a URL path (a Location header): every segment percent-encoded, `/` kept. */
function encodeKeyPath(key: string): string {
  return key.split("/").map(encodeURIComponent).join("/");
}

/**
 * A key (or prefix) as XML text. Line breaks and tabs go as character references, as S3 sends
 * them: a literal `\r` would be read back as `\n` by any XML parser, naming another key.
 */
function xmlKey(key: string): string {
  return escapeXml(key).replace(/[\r\n\t]/g, (c) => `&#${c.charCodeAt(0)};`);
}

const CORS_VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method";

/**
 * The headers S3 answers an allowed CORS request with, from the first rule whose origin, method
 * and headers (each requested one, case-insensitively) all match; undefined when none does.
 */
function corsHeaders(
  rules: CorsRule[],
  origin: string,
  method: string,
  requestedHeaders: string[],
): Record<string, string> | undefined {
  for (const rule of rules) {
    const allowedOrigin = rule.allowedOrigins.find((pattern) => wildcardMatch(pattern, origin));
    if (allowedOrigin === undefined || !rule.allowedMethods.includes(method)) continue;
    const headersAllowed = requestedHeaders.every((name) =>
      rule.allowedHeaders.some((pattern) =>
        wildcardMatch(pattern.toLowerCase(), name.toLowerCase()),
      ),
    );
    if (!headersAllowed) continue;
    const anyOrigin = allowedOrigin === "*";
    return {
      "access-control-allow-origin": anyOrigin ? "*" : origin,
      "access-control-allow-methods": rule.allowedMethods.join(", "),
      ...(anyOrigin ? {} : { "access-control-allow-credentials": "true" }),
      ...(rule.exposeHeaders.length > 0
        ? { "access-control-expose-headers": rule.exposeHeaders.join(", ") }
        : {}),
      ...(rule.maxAgeSeconds === undefined
        ? {}
        : { "access-control-max-age": String(rule.maxAgeSeconds) }),
      vary: CORS_VARY,
    };
  }
  return undefined;
}

/** S3's CORS patterns: literal, or with one `*` standing for any run of characters. */
function wildcardMatch(pattern: string, value: string): boolean {
  const star = pattern.indexOf("*");
  if (star < 0) return pattern === value;
  const prefix = pattern.slice(0, star);
  const suffix = pattern.slice(star + 1);
  return (
    value.length >= prefix.length + suffix.length &&
    value.startsWith(prefix) &&
    value.endsWith(suffix)
  );
}

/** A PutBucketCors body as rules; the store checks them as S3 does. */
function parseCorsConfiguration(body: unknown): CorsRule[] {
  const configuration = isRecord(body) ? body.CORSConfiguration : undefined;
  const rules = isRecord(configuration) ? configuration.CORSRule : undefined;
  const texts = (value: unknown) =>
    Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
  return (Array.isArray(rules) ? rules : []).filter(isRecord).map((rule) => {
    const maxAge = rule.MaxAgeSeconds;
    return {
      ...(typeof rule.ID === "string" ? { id: rule.ID } : {}),
      allowedOrigins: texts(rule.AllowedOrigin),
      allowedMethods: texts(rule.AllowedMethod),
      allowedHeaders: texts(rule.AllowedHeader),
      exposeHeaders: texts(rule.ExposeHeader),
      ...(typeof maxAge === "string" ? { maxAgeSeconds: Number(maxAge) } : {}),
    };
  });
}

function corsRuleXml(rule: CorsRule): string {
  const elements = (name: string, values: string[]) =>
    values.map((value) => `<${name}>${escapeXml(value)}</${name}>`).join("");
  return `<CORSRule>${rule.id === undefined ? "" : `<ID>${escapeXml(rule.id)}</ID>`}${elements("AllowedHeader", rule.allowedHeaders)}${elements("AllowedMethod", rule.allowedMethods)}${elements("AllowedOrigin", rule.allowedOrigins)}${elements("ExposeHeader", rule.exposeHeaders)}${rule.maxAgeSeconds === undefined ? "" : `<MaxAgeSeconds>${rule.maxAgeSeconds}</MaxAgeSeconds>`}</CORSRule>`;
}

function checkPresignedExpiry(q: URLSearchParams): void {
  const date = q.get("X-Amz-Date");
  const expires = q.get("X-Amz-Expires");
  if (!date || !expires) return;
  const signedAt = parseAmzDate(date);
  if (signedAt === undefined)
    throw new AwsError(
      "AuthorizationQueryParametersError",
      "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"",
    );
  if (Date.now() > signedAt + Number(expires) * 1000)
    throw new AwsError("AccessDenied", "Request has expired", 403, {
      Expires: new Date(signedAt + Number(expires) * 1000).toISOString(),
    });
}

function metadataOf(req: IncomingMessage): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (name.startsWith("x-amz-meta-") && typeof value === "string")
      metadata[name.slice("x-amz-meta-".length)] = decodeHeader(value);
  }
  return metadata;
}

function contentTypeOf(req: IncomingMessage): string {
  return req.headers["content-type"] ?? "binary/octet-stream";
}

/** Non-ASCII metadata travels RFC 2047-encoded, as S3 returns it. */
function encodeHeader(value: string): string {
  return /^[\x20-\x7e]*$/.test(value)
    ? value
    : `=?UTF-8?B?${Buffer.from(value).toString("base64")}?=`;
}

function decodeHeader(value: string): string {
  const m = /^=\?UTF-8\?B\?([A-Za-z0-9+/=]*)\?=$/i.exec(value);
  return m?.[1] !== undefined ? Buffer.from(m[1], "base64").toString("utf8") : value;
}

/** Undo `aws-chunked` transfer framing (streamed SDK uploads with trailing checksums). */
function decodeContent(req: IncomingMessage, body: Buffer): Buffer {
  const sha = String(req.headers["x-amz-content-sha256"] ?? "");
  const encoding = String(req.headers["content-encoding"] ?? "");
  if (!sha.startsWith("STREAMING-") && !encoding.includes("aws-chunked")) return body;
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset < body.length) {
    const lineEnd = body.indexOf("\r\n", offset);
    if (lineEnd < 0) break;
    const size = Number.parseInt(
      body.subarray(offset, lineEnd).toString("latin1").split(";")[0] ?? "",
      16,
    );
    if (!Number.isFinite(size))
      throw new AwsError("IncompleteBody", "aws-chunked body has a malformed chunk header");
    if (size === 0) break;
    parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

function parseCopySource(header: string): { bucket: string; key: string; versionId?: string } {
  const [path = "", query = ""] = header.split("?");
  const [bucket, key] = splitPath(path.startsWith("/") ? path : `/${path}`);
  if (!bucket || !key)
    throw new AwsError(
      "InvalidArgument",
      "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
    );
  const versionId = new URLSearchParams(query).get("versionId") ?? undefined;
  return versionId ? { bucket, key, versionId } : { bucket, key };
}

function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | undefined {
  const m = header ? /^bytes=(\d*)-(\d*)$/.exec(header) : null;
  if (!m || size === 0) return undefined;
  const [, from = "", to = ""] = m;
  if (!from && !to) return undefined;
  const start = from ? Number(from) : Math.max(0, size - Number(to));
  const end = from && to ? Math.min(Number(to), size - 1) : size - 1;
  if (start >= size)
    throw new AwsError("InvalidRange", "The requested range is not satisfiable", 416, {
      ActualObjectSize: String(size),
    });
  return { start, end };
}

function clampMaxKeys(value: string | null): number {
  const n = value === null ? 1000 : Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new AwsError(
      "InvalidArgument",
      "Provided max-keys not an integer or within integer range",
    );
  return Math.min(n, 1000);
}

function rollUp(key: string, prefix: string, delimiter: string): string | undefined {
  const at = key.indexOf(delimiter, prefix.length);
  return at < 0 ? undefined : key.slice(0, at + delimiter.length);
}

function encodeToken(key: string): string {
  return Buffer.from(key).toString("base64url");
}

function decodeToken(token: string | null): string | undefined {
  return token ? Buffer.from(token, "base64url").toString("utf8") : undefined;
}

function parseXml(body: Buffer, parser = xml): unknown {
  if (body.length === 0)
    throw new AwsError(
      "MalformedXML",
      "The XML you provided was not well-formed or did not validate against our published schema",
    );
  return parser.parse(body.toString("utf8"));
}

function textAt(value: unknown, ...path: string[]): string | undefined {
  let node = value;
  for (const name of path) node = isRecord(node) ? node[name] : undefined;
  return typeof node === "string" ? node : undefined;
}

interface MultipartForm {
  fields: [string, string][];
  file?: { filename: string; contentType: string; data: Buffer };
}

/** multipart/form-data as browsers send it; S3 ignores every field after `file`. */
export function parseMultipart(body: Buffer, contentType: string): MultipartForm {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  const marker = boundary?.[1] ?? boundary?.[2];
  if (!marker)
    throw new AwsError(
      "MalformedPOSTRequest",
      "The body of your POST request is not well-formed multipart/form-data.",
    );
  const delimiter = Buffer.from(`--${marker}`);
  const form: MultipartForm = { fields: [] };
  let start = body.indexOf(delimiter);
  while (start >= 0 && !form.file) {
    const partStart = start + delimiter.length;
    if (body.subarray(partStart, partStart + 2).toString() === "--") break;
    const next = body.indexOf(delimiter, partStart);
    if (next < 0) break;
    const part = body.subarray(partStart + 2, next - 2);
    const headerEnd = part.indexOf("\r\n\r\n");
    const headers = part.subarray(0, headerEnd).toString("utf8");
    const content = part.subarray(headerEnd + 4);
    const name = /name="([^"]*)"/i.exec(headers)?.[1] ?? "";
    const filename = /filename="([^"]*)"/i.exec(headers)?.[1];
    if (name === "file") {
      const type = /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1] ?? "binary/octet-stream";
      form.file = { filename: filename ?? "", contentType: type, data: content };
    } else {
      form.fields.push([name, content.toString("utf8")]);
    }
    start = next;
  }
  return form;
}

const UNCHECKED_FIELDS = new Set([
  "policy",
  "x-amz-signature",
  "file",
  "signature",
  "awsaccesskeyid",
]);

/** S3's POST policy rules: not expired, every condition holds, and every field is covered by one. */
export function enforcePostPolicy(
  policyText: string | undefined,
  fields: Map<string, string>,
  size: number,
): void {
  if (!policyText)
    throw new AwsError(
      "AccessDenied",
      "Bucket POST must contain a policy (anonymous uploads are not allowed)",
      403,
    );
  let policy: unknown;
  try {
    policy = JSON.parse(Buffer.from(policyText, "base64").toString("utf8"));
  } catch {
    throw new AwsError("InvalidPolicyDocument", "Invalid Policy: Invalid JSON.");
  }
  if (
    !isRecord(policy) ||
    typeof policy.expiration !== "string" ||
    !Array.isArray(policy.conditions)
  ) {
    throw new AwsError(
      "InvalidPolicyDocument",
      "Invalid Policy: the policy needs an expiration and a conditions list.",
    );
  }
  if (Date.parse(policy.expiration) < Date.now())
    throw new AwsError("AccessDenied", "Invalid according to Policy: Policy expired.", 403);
  const covered = new Set<string>();
  const denied = (condition: unknown) =>
    new AwsError(
      "AccessDenied",
      `Invalid according to Policy: Policy Condition failed: ${JSON.stringify(condition)}`,
      403,
    );
  for (const condition of policy.conditions) {
    if (isRecord(condition)) {
      for (const [name, expected] of Object.entries(condition)) {
        covered.add(name.toLowerCase());
        if (fields.get(name.toLowerCase()) !== expected) throw denied(condition);
      }
      continue;
    }
    if (!Array.isArray(condition))
      throw new AwsError(
        "InvalidPolicyDocument",
        "Invalid Policy: a condition must be an object or a list.",
      );
    const [operator, first, second] = condition;
    if (operator === "content-length-range") {
      const min = Number(first);
      const max = Number(second);
      if (size > max)
        throw new AwsError(
          "EntityTooLarge",
          "Your proposed upload exceeds the maximum allowed size",
          400,
          { ProposedSize: String(size), MaxSizeAllowed: String(max) },
        );
      if (size < min)
        throw new AwsError(
          "EntityTooSmall",
          "Your proposed upload is smaller than the minimum allowed size",
          400,
          { ProposedSize: String(size), MinSizeAllowed: String(min) },
        );
      continue;
    }
    const name = typeof first === "string" ? first.replace(/^\$/, "").toLowerCase() : "";
    covered.add(name);
    const actual = fields.get(name) ?? "";
    const ok =
      String(operator).toLowerCase() === "eq"
        ? actual === second
        : String(operator).toLowerCase() === "starts-with" && actual.startsWith(String(second));
    if (!ok) throw denied(condition);
  }
  for (const name of fields.keys()) {
    if (
      UNCHECKED_FIELDS.has(name) ||
      name.startsWith("x-ignore-") ||
      name === "bucket" ||
      covered.has(name)
    )
      continue;
    throw new AwsError(
      "AccessDenied",
      `Invalid according to Policy: Extra input fields: ${name}`,
      403,
    );
  }
}
