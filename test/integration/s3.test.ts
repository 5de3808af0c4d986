import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type BucketLocationConstraint,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCorsCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketCorsCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketCorsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { createPresignedPost } from "@aws-sdk/s3-presigned-post";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalCloud } from "../../local/cloud.js";
import { ObjectStore } from "../../local/s3-store.js";
import { downloadPrefix } from "../../local/s3-uri.js";
import { startTestCloud } from "./helpers.js";

let cloud: LocalCloud;
let s3: S3Client;
let cleanup: () => Promise<void>;
const bucket = "data-bucket";

beforeAll(async () => {
  const started = await startTestCloud();
  cloud = started.cloud;
  cleanup = started.cleanup;
  s3 = new S3Client({ ...started.config, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(
    new PutBucketVersioningCommand({
      Bucket: bucket,
      VersioningConfiguration: { Status: "Enabled" },
    }),
  );
});

afterAll(async () => {
  s3.destroy();
  await cleanup();
});

async function text(key: string, versionId?: string): Promise<string> {
  const got = await s3.send(
    new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }),
  );
  return (await got.Body?.transformToString()) ?? "";
}

describe("local S3", () => {
  it("keeps every version of an overwritten object and serves each by versionId", async () => {
    const first = await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: "inbox/data.csv", Body: "a,b\n1,2\n" }),
    );
    const second = await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: "inbox/data.csv", Body: "a,b\n3,4\n" }),
    );

    expect(first.VersionId).toBeTruthy();
    expect(second.VersionId).not.toBe(first.VersionId);
    expect(await text("inbox/data.csv")).toBe("a,b\n3,4\n");
    expect(await text("inbox/data.csv", first.VersionId)).toBe("a,b\n1,2\n");
    const versions = await s3.send(
      new ListObjectVersionsCommand({ Bucket: bucket, Prefix: "inbox/data.csv" }),
    );
    expect(versions.Versions?.map((v) => v.VersionId)).toEqual([second.VersionId, first.VersionId]);
  });

  it("stores keys with spaces, plus signs and non-ASCII characters unchanged", async () => {
    const key = "inbox/my data+v2 – résumé 数据.csv";
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: "x", Metadata: { target: "price" } }),
    );

    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: "inbox/my" }));

    expect(head.ContentLength).toBe(1);
    expect(head.Metadata).toEqual({ target: "price" });
    expect(listed.Contents?.map((c) => c.Key)).toEqual([key]);
  });

  it("answers NoSuchKey for a missing object and NoSuchBucket for a missing bucket", async () => {
    await expect(
      s3.send(new GetObjectCommand({ Bucket: bucket, Key: "nope" })),
    ).rejects.toMatchObject({ name: "NoSuchKey" });
    await expect(
      s3.send(new GetObjectCommand({ Bucket: "no-such-bucket", Key: "x" })),
    ).rejects.toMatchObject({ name: "NoSuchBucket" });
  });

  it("hides a deleted object behind a delete marker while older versions stay readable", async () => {
    const put = await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: "runs/r1/x.txt", Body: "kept" }),
    );
    const deleted = await s3.send(
      new DeleteObjectCommand({ Bucket: bucket, Key: "runs/r1/x.txt" }),
    );

    expect(deleted.DeleteMarker).toBe(true);
    await expect(text("runs/r1/x.txt")).rejects.toMatchObject({ name: "NoSuchKey" });
    expect(await text("runs/r1/x.txt", put.VersionId)).toBe("kept");
  });

  it("copies a named version of an object", async () => {
    const old = await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: "inbox/copy-me.csv", Body: "old" }),
    );
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "inbox/copy-me.csv", Body: "new" }));

    const copied = await s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: "runs/r2/input/copy-me.csv",
        CopySource: `${bucket}/inbox/copy-me.csv?versionId=${old.VersionId}`,
      }),
    );

    expect(copied.CopySourceVersionId).toBe(old.VersionId);
    expect(await text("runs/r2/input/copy-me.csv")).toBe("old");
  });

  it("lists with a delimiter and pages with continuation tokens", async () => {
    for (const name of ["a", "b", "c", "d", "e"])
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `list/${name}.txt`, Body: name }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "list/sub/f.txt", Body: "f" }));

    const folders = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: "list/", Delimiter: "/" }),
    );
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: "list/",
          MaxKeys: 2,
          ContinuationToken: token,
        }),
      );
      keys.push(...(page.Contents ?? []).map((c) => c.Key ?? ""));
      token = page.NextContinuationToken;
    } while (token);

    expect(folders.CommonPrefixes?.map((p) => p.Prefix)).toEqual(["list/sub/"]);
    expect(folders.Contents).toHaveLength(5);
    expect(keys).toEqual([
      "list/a.txt",
      "list/b.txt",
      "list/c.txt",
      "list/d.txt",
      "list/e.txt",
      "list/sub/f.txt",
    ]);
  });

  it("assembles a multipart upload", async () => {
    const key = "big/model.tar.gz";
    const part1 = Buffer.alloc(5 * 1024 * 1024, 1);
    const part2 = Buffer.from("tail");
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }),
    );
    const p1 = await s3.send(
      new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: part1 }),
    );
    const p2 = await s3.send(
      new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 2, Body: part2 }),
    );

    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: p1.ETag },
            { PartNumber: 2, ETag: p2.ETag },
          ],
        },
      }),
    );

    expect(done.ETag).toMatch(/-2"$/);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    expect(head.ContentLength).toBe(part1.length + part2.length);
  });

  it("serves presigned GET and PUT URLs and refuses an expired one", async () => {
    const putUrl = await getSignedUrl(
      s3,
      new PutObjectCommand({ Bucket: bucket, Key: "presigned/a.txt" }),
      { expiresIn: 60 },
    );
    const put = await fetch(putUrl, { method: "PUT", body: "via url" });
    const getUrl = await getSignedUrl(
      s3,
      new GetObjectCommand({ Bucket: bucket, Key: "presigned/a.txt" }),
      { expiresIn: 60 },
    );
    const expired = await getSignedUrl(
      s3,
      new GetObjectCommand({ Bucket: bucket, Key: "presigned/a.txt" }),
      { expiresIn: 1, signingDate: new Date(Date.now() - 60_000) },
    );

    expect(put.status).toBe(200);
    expect(await (await fetch(getUrl)).text()).toBe("via url");
    const refused = await fetch(expired);
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain("Request has expired");
  });

  it("enforces a presigned POST policy: size range and metadata fields", async () => {
    const post = await createPresignedPost(s3, {
      Bucket: bucket,
      Key: "inbox/upload.csv",
      Conditions: [
        ["content-length-range", 1, 10],
        ["eq", "$x-amz-meta-target", "label"],
      ],
      Fields: { "x-amz-meta-target": "label" },
      Expires: 60,
    });
    const send = (body: string, extra: Record<string, string> = {}) => {
      const form = new FormData();
      for (const [name, value] of Object.entries({ ...post.fields, ...extra }))
        form.append(name, value);
      form.append("file", new Blob([body]), "upload.csv");
      return fetch(post.url, { method: "POST", body: form });
    };

    const ok = await send("a,label\n");
    const tooBig = await send("x".repeat(11));
    const tampered = await send("a", { "x-amz-meta-target": "other" });
    const extra = await send("a", { "x-amz-meta-sneaky": "1" });

    expect(ok.status).toBe(204);
    expect(ok.headers.get("x-amz-version-id")).toBeTruthy();
    expect(
      (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "inbox/upload.csv" }))).Metadata,
    ).toEqual({ target: "label" });
    expect(tooBig.status).toBe(400);
    expect(await tooBig.text()).toContain("<Code>EntityTooLarge</Code>");
    expect(tampered.status).toBe(403);
    expect(extra.status).toBe(403);
    expect(await extra.text()).toContain("Extra input fields: x-amz-meta-sneaky");
  });

  it("keeps objects on disk across a restart", async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "durable.txt", Body: "still here" }));
    const path = cloud.objects.dataPath(bucket, cloud.objects.get(bucket, "durable.txt"));

    expect(readFileSync(path, "utf8")).toBe("still here");
  });
});

describe("local S3 buckets", () => {
  it("answers CreateBucket again for its owner in us-east-1, and names the region to HeadBucket", async () => {
    await s3.send(new CreateBucketCommand({ Bucket: "made-twice" }));
    await s3.send(new CreateBucketCommand({ Bucket: "made-twice" }));

    const head = await s3.send(new HeadBucketCommand({ Bucket: "made-twice" }));
    const location = await s3.send(new GetBucketLocationCommand({ Bucket: "made-twice" }));

    expect(head.BucketRegion).toBe("us-east-1");
    expect(location.LocationConstraint ?? "").toBe("");
  });

  it("answers a missing bucket with 404 to HeadBucket and NoSuchBucket to GetBucketLocation", async () => {
    await expect(s3.send(new HeadBucketCommand({ Bucket: "never-made" }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    });
    await expect(
      s3.send(new GetBucketLocationCommand({ Bucket: "never-made" })),
    ).rejects.toMatchObject({ name: "NoSuchBucket" });
  });

  it("refuses a location constraint for another region, and us-east-1 named as one", async () => {
    await expect(
      s3.send(
        new CreateBucketCommand({
          Bucket: "elsewhere",
          CreateBucketConfiguration: { LocationConstraint: "eu-west-1" },
        }),
      ),
    ).rejects.toMatchObject({ name: "IllegalLocationConstraintException" });
    await expect(
      s3.send(
        new CreateBucketCommand({
          Bucket: "elsewhere",
          // Not in the SDK's enum of constraints, which is the point: S3 refuses it too.
          CreateBucketConfiguration: {
            LocationConstraint: "us-east-1" as BucketLocationConstraint,
          },
        }),
      ),
    ).rejects.toMatchObject({ name: "InvalidLocationConstraint" });
    expect(cloud.objects.hasBucket("elsewhere")).toBe(false);
  });

  it("refuses a request that expects another account to own the bucket", async () => {
    await expect(
      s3.send(new HeadBucketCommand({ Bucket: bucket, ExpectedBucketOwner: "111111111111" })),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
    await expect(
      s3.send(new HeadBucketCommand({ Bucket: bucket, ExpectedBucketOwner: cloud.account })),
    ).resolves.toMatchObject({ BucketRegion: "us-east-1" });
  });

  it("outside us-east-1, takes the region as the constraint and refuses to make a bucket twice", async () => {
    const other = await startTestCloud({ region: "eu-west-1" });
    const client = new S3Client({ ...other.config, forcePathStyle: true });
    try {
      const create = new CreateBucketCommand({
        Bucket: "regional",
        CreateBucketConfiguration: { LocationConstraint: "eu-west-1" },
      });
      await client.send(create);

      await expect(client.send(create)).rejects.toMatchObject({
        name: "BucketAlreadyOwnedByYou",
      });
      await expect(
        client.send(new GetBucketLocationCommand({ Bucket: "regional" })),
      ).resolves.toMatchObject({ LocationConstraint: "eu-west-1" });
    } finally {
      client.destroy();
      await other.cleanup();
    }
  });
});

/** Sends a presigned URL byte for byte: fetch() and `new URL` would resolve `..` and `%2E%2E` first. */
function sendRaw(
  url: string,
  method: string,
  rewritePath: (path: string) => string = (path) => path,
  body = "",
): Promise<{ status: number; body: string }> {
  const [, host = "", port = "", path = "/"] = /^http:\/\/([^:/]+):(\d+)(\/.*)$/.exec(url) ?? [];
  return new Promise((resolve, reject) => {
    const req = request({ host, port, method, path: rewritePath(path) }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
      );
    });
    req.on("error", reject);
    req.end(body);
  });
}

async function put(key: string, body: string): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

async function listed(prefix: string): Promise<string[]> {
  const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (page.Contents ?? []).map((c) => c.Key ?? "");
}

describe("local S3 keys are opaque strings", () => {
  it("keeps a PUT to inbox/../escape.csv at its literal key, not at escape.csv", async () => {
    await put("escape.csv", "original at the root");

    await put("inbox/../escape.csv", "dropped in the inbox");

    expect(await text("inbox/../escape.csv")).toBe("dropped in the inbox");
    expect(await text("escape.csv")).toBe("original at the root");
    expect(await listed("inbox/..")).toEqual(["inbox/../escape.csv"]);
  });

  it("keeps a PUT through inbox/../runs/<id>/ away from that run's report", async () => {
    await put("runs/x/report/index.html", "<h1>the real report</h1>");

    await put("inbox/../runs/x/report/index.html", "<h1>forged</h1>");

    expect(await text("runs/x/report/index.html")).toBe("<h1>the real report</h1>");
    expect(await text("inbox/../runs/x/report/index.html")).toBe("<h1>forged</h1>");
    expect(await listed("runs/x/")).toEqual(["runs/x/report/index.html"]);
  });

  it("keeps a key with a literal %2E%2E segment apart from a/../b and b", async () => {
    await put("b", "plain b");

    await put("a/%2E%2E/b", "percent-encoded dots");

    expect(await text("a/%2E%2E/b")).toBe("percent-encoded dots");
    expect(await text("b")).toBe("plain b");
    expect(await listed("a/")).toEqual(["a/%2E%2E/b"]);
  });

  it("decodes %2E%2E and backslashes in a request path once, without resolving them", async () => {
    await put("target.txt", "untouched");
    const presign = async (key: string) =>
      getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: 60 });

    const encoded = await sendRaw(
      await presign("raw/../target.txt"),
      "PUT",
      (path) => path.replace("/../", "/%2E%2E/"),
      "via %2E%2E",
    );
    const backslashed = await sendRaw(
      await presign("raw/x"),
      "PUT",
      (path) => path.replace("/raw/x", "/raw\\..\\target.txt"),
      "via backslashes",
    );

    expect(encoded.status).toBe(200);
    expect(backslashed.status).toBe(200);
    expect(await text("raw/../target.txt")).toBe("via %2E%2E");
    expect(await text("raw\\..\\target.txt")).toBe("via backslashes");
    expect(await text("target.txt")).toBe("untouched");
  });

  it("treats a/./b, a//b, a/b/, a/b, . and .. as six distinct objects", async () => {
    const keys = ["a/./b", "a//b", "a/b/", "a/b", ".", ".."];
    for (const key of keys) await put(key, `body of ${key}`);

    const bodies = await Promise.all(keys.map((key) => text(key)));
    const all = await listed("");

    expect(bodies).toEqual(keys.map((key) => `body of ${key}`));
    for (const key of keys) expect(all).toContain(key);
  });

  it("assembles a multipart upload at its literal key without touching the object it names", async () => {
    await put("runs/m/report/index.html", "report of m");
    const key = "inbox/../runs/m/report/index.html";
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }),
    );
    const part = await s3.send(
      new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: "forged" }),
    );

    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );

    expect(await text(key)).toBe("forged");
    expect(await text("runs/m/report/index.html")).toBe("report of m");
  });

  it("stores a presigned POST upload at its literal key", async () => {
    await put("post-escape.csv", "root file");
    const post = await createPresignedPost(s3, {
      Bucket: bucket,
      Key: "inbox/../post-escape.csv",
      Expires: 60,
    });
    const form = new FormData();
    for (const [name, value] of Object.entries(post.fields)) form.append(name, value);
    form.append("file", new Blob(["posted"]), "post-escape.csv");

    const posted = await fetch(post.url, { method: "POST", body: form });

    expect(posted.status).toBe(204);
    expect(await text("inbox/../post-escape.csv")).toBe("posted");
    expect(await text("post-escape.csv")).toBe("root file");
  });

  it("copies from and to keys with .. segments at their literal keys", async () => {
    await put("copy/../src.txt", "dotted source");
    await put("src.txt", "plain source");
    await put("dst.txt", "plain destination");

    await s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: "copy/../dst.txt",
        CopySource: `${bucket}/copy/../src.txt`,
      }),
    );
    await s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: "copy/./dst.txt",
        CopySource: `${bucket}/${encodeURIComponent("copy/../src.txt")}`,
      }),
    );

    expect(await text("copy/../dst.txt")).toBe("dotted source");
    expect(await text("copy/./dst.txt")).toBe("dotted source");
    expect(await text("dst.txt")).toBe("plain destination");
    expect(await text("src.txt")).toBe("plain source");
  });

  it("deletes x/../y without deleting y", async () => {
    await put("y", "keep me");
    await put("x/../y", "delete me");

    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: "x/../y" }));

    expect(await text("y")).toBe("keep me");
    await expect(text("x/../y")).rejects.toMatchObject({ name: "NoSuchKey" });
  });

  it("deletes exactly the keys DeleteObjects names, spaces and line breaks included", async () => {
    for (const key of ["z", " z", "z ", "z\r\n", "del/../z"]) await put(key, `body of ${key}`);
    expect(await listed("z")).toEqual(["z", "z\r\n", "z "]);

    const result = await s3.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: [{ Key: " z" }, { Key: "z " }, { Key: "z\r\n" }, { Key: "del/../z" }] },
      }),
    );

    expect(result.Deleted?.map((d) => d.Key).sort()).toEqual(
      [" z", "z ", "z\r\n", "del/../z"].sort(),
    );
    expect(await text("z")).toBe("body of z");
    await expect(text("z ")).rejects.toMatchObject({ name: "NoSuchKey" });
    expect(await listed("z")).toEqual(["z"]);
  });

  it("lists .. segments under a delimiter as their own common prefix", async () => {
    await put("tree/../outside.txt", "1");
    await put("tree/inside.txt", "2");

    const v2 = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: "tree/", Delimiter: "/" }),
    );
    const v1 = await s3.send(
      new ListObjectsCommand({ Bucket: bucket, Prefix: "tree/", Delimiter: "/" }),
    );
    const versions = await s3.send(
      new ListObjectVersionsCommand({ Bucket: bucket, Prefix: "tree/../" }),
    );

    expect(v2.CommonPrefixes?.map((p) => p.Prefix)).toEqual(["tree/../"]);
    expect(v2.Contents?.map((c) => c.Key)).toEqual(["tree/inside.txt"]);
    expect(v1.CommonPrefixes?.map((p) => p.Prefix)).toEqual(["tree/../"]);
    expect(versions.Versions?.map((v) => v.Key)).toEqual(["tree/../outside.txt"]);
  });

  it("serves keys named like object properties (__proto__, constructor) as ordinary objects", async () => {
    await expect(text("constructor")).rejects.toMatchObject({ name: "NoSuchKey" });

    await put("__proto__", "proto body");
    await put("constructor", "constructor body");

    expect(await text("__proto__")).toBe("proto body");
    expect(await text("constructor")).toBe("constructor body");
  });

  it("accepts a 1024-byte key and answers KeyTooLongError above it", async () => {
    const longest = `k/${"é".repeat(511)}`;

    await put(longest, "fits");

    expect(Buffer.byteLength(longest)).toBe(1024);
    expect(await text(longest)).toBe("fits");
    await expect(put(`${longest}x`, "too long")).rejects.toMatchObject({
      name: "KeyTooLongError",
    });
  });

  it("finds keys with .. segments and property names again after a restart", async () => {
    await put("keep/../me.txt", "dotted");
    await put("__proto__/x", "proto folder");

    const reopened = new ObjectStore(join(cloud.stateDir, "s3"));

    expect(reopened.read(bucket, "keep/../me.txt").toString()).toBe("dotted");
    expect(reopened.read(bucket, "__proto__/x").toString()).toBe("proto folder");
    expect(reopened.list(bucket, "keep/").map((o) => o.key)).toEqual(["keep/../me.txt"]);
  });
});

describe("downloading a prefix into a job folder", () => {
  it("refuses a key whose path after the prefix climbs out with .., writing nothing", async () => {
    const parent = mkdtempSync(join(tmpdir(), "modeldrop-download-"));
    const folder = join(parent, "train");
    await put("channel/a.csv", "a");
    await put("channel/../../escape.csv", "escaped");

    try {
      expect(() => downloadPrefix(cloud.objects, { bucket, key: "channel/" }, folder)).toThrow(
        /s3:\/\/data-bucket\/channel\/\.\.\/\.\.\/escape\.csv cannot be downloaded/,
      );
      expect(readdirSync(parent)).toEqual([]);
      expect(existsSync(join(parent, "..", "escape.csv"))).toBe(false);
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });

  it("downloads names that only start with dots, and refuses two keys for one file", async () => {
    const folder = mkdtempSync(join(tmpdir(), "modeldrop-download-"));
    await put("dots/..hidden.csv", "x");
    await put("dots/sub/.profile", "y");
    await put("twice/a/b", "one");
    await put("twice/a//b", "two");

    try {
      const count = downloadPrefix(cloud.objects, { bucket, key: "dots/" }, folder);

      expect(count).toBe(2);
      expect(readFileSync(join(folder, "..hidden.csv"), "utf8")).toBe("x");
      expect(readFileSync(join(folder, "sub", ".profile"), "utf8")).toBe("y");
      expect(() => downloadPrefix(cloud.objects, { bucket, key: "twice/" }, folder)).toThrow(
        /would both be downloaded/,
      );
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

describe("local S3 bucket CORS, as a page on the dashboard's origin meets it", () => {
  const corsBucket = "dashboard-uploads";
  const elsewhere = "http://elsewhere.example";
  let dashboard: string;
  let objectUrl: string;

  beforeAll(async () => {
    dashboard = cloud.apiEndpoint;
    objectUrl = `${cloud.endpoint}/${corsBucket}/inbox/data.csv`;
    await s3.send(new CreateBucketCommand({ Bucket: corsBucket }));
    await s3.send(
      new PutBucketVersioningCommand({
        Bucket: corsBucket,
        VersioningConfiguration: { Status: "Enabled" },
      }),
    );
    await s3.send(
      new PutBucketCorsCommand({
        Bucket: corsBucket,
        CORSConfiguration: {
          CORSRules: [
            {
              ID: "dashboard",
              AllowedOrigins: [dashboard],
              AllowedMethods: ["GET", "POST"],
              AllowedHeaders: ["content-type", "x-amz-meta-*"],
              ExposeHeaders: ["x-amz-version-id", "ETag"],
              MaxAgeSeconds: 600,
            },
          ],
        },
      }),
    );
  });

  const preflight = (origin: string, method: string, headers?: string) =>
    fetch(objectUrl, {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": method,
        ...(headers ? { "access-control-request-headers": headers } : {}),
      },
    });

  const presignedPost = async (origin: string | undefined) => {
    const post = await createPresignedPost(s3, {
      Bucket: corsBucket,
      Key: "inbox/data.csv",
      Expires: 60,
    });
    const form = new FormData();
    for (const [name, value] of Object.entries(post.fields)) form.append(name, value);
    form.append("file", new Blob(["a,b\n1,2\n"]), "data.csv");
    return fetch(post.url, {
      method: "POST",
      body: form,
      headers: origin ? { origin } : {},
    });
  };

  const presignedGet = async (key: string, origin: string | undefined) =>
    fetch(
      await getSignedUrl(s3, new GetObjectCommand({ Bucket: corsBucket, Key: key }), {
        expiresIn: 60,
      }),
      { headers: origin ? { origin } : {} },
    );

  it("answers GetBucketCors with the rules PutBucketCors stored, and nothing once deleted", async () => {
    const rules = [
      {
        ID: "viewer",
        AllowedOrigins: ["https://*.example.com"],
        AllowedMethods: ["GET", "HEAD"],
        AllowedHeaders: ["*"],
        ExposeHeaders: ["ETag"],
        MaxAgeSeconds: 60,
      },
      { AllowedOrigins: ["*"], AllowedMethods: ["GET"] },
    ];
    await s3.send(new CreateBucketCommand({ Bucket: "cors-round-trip" }));
    await s3.send(
      new PutBucketCorsCommand({
        Bucket: "cors-round-trip",
        CORSConfiguration: { CORSRules: rules },
      }),
    );

    const stored = await s3.send(new GetBucketCorsCommand({ Bucket: "cors-round-trip" }));
    await s3.send(new DeleteBucketCorsCommand({ Bucket: "cors-round-trip" }));

    expect(stored.CORSRules).toEqual(rules);
    await expect(
      s3.send(new GetBucketCorsCommand({ Bucket: "cors-round-trip" })),
    ).rejects.toMatchObject({ name: "NoSuchCORSConfiguration" });
  });

  it("answers a preflight from the dashboard with the rule's methods, the asked headers and its max age", async () => {
    const answer = await preflight(dashboard, "POST", "Content-Type, x-amz-meta-target");

    expect(answer.status).toBe(200);
    expect(answer.headers.get("access-control-allow-origin")).toBe(dashboard);
    expect(answer.headers.get("access-control-allow-methods")).toBe("GET, POST");
    expect(answer.headers.get("access-control-allow-headers")).toBe(
      "Content-Type, x-amz-meta-target",
    );
    expect(answer.headers.get("access-control-max-age")).toBe("600");
    expect(answer.headers.get("access-control-expose-headers")).toBe("x-amz-version-id, ETag");
    expect(answer.headers.get("vary")).toBe(
      "Origin, Access-Control-Request-Headers, Access-Control-Request-Method",
    );
  });

  it("refuses a preflight from another origin with 403 and S3's CORSResponse message", async () => {
    const answer = await preflight(elsewhere, "POST");

    expect(answer.status).toBe(403);
    expect(answer.headers.get("access-control-allow-origin")).toBeNull();
    const body = await answer.text();
    expect(body).toContain("<Code>AccessForbidden</Code>");
    expect(body).toContain("CORSResponse: This CORS request is not allowed.");
  });

  it("refuses a preflight for a method or a header that no rule allows", async () => {
    const put = await preflight(dashboard, "PUT");
    const header = await preflight(dashboard, "POST", "authorization");

    expect(put.status).toBe(403);
    expect(header.status).toBe(403);
  });

  it("refuses a preflight to a bucket without CORS, and names a missing bucket", async () => {
    const plain = await fetch(`${cloud.endpoint}/${bucket}/inbox/data.csv`, {
      method: "OPTIONS",
      headers: { origin: dashboard, "access-control-request-method": "GET" },
    });
    const missing = await fetch(`${cloud.endpoint}/no-such-bucket/inbox/data.csv`, {
      method: "OPTIONS",
      headers: { origin: dashboard, "access-control-request-method": "GET" },
    });

    expect(plain.status).toBe(403);
    expect(await plain.text()).toContain("CORSResponse: CORS is not enabled for this bucket.");
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain("<Code>NoSuchBucket</Code>");
  });

  it("lets the dashboard read the version id of a presigned POST upload", async () => {
    const answer = await presignedPost(dashboard);

    expect(answer.status).toBe(204);
    expect(answer.headers.get("access-control-allow-origin")).toBe(dashboard);
    expect(answer.headers.get("access-control-expose-headers")).toContain("x-amz-version-id");
    expect(answer.headers.get("x-amz-version-id")).toBeTruthy();
  });

  it("lets the dashboard read a presigned GET, and the 404 of a missing key likewise", async () => {
    await presignedPost(undefined);

    const found = await presignedGet("inbox/data.csv", dashboard);
    const missing = await presignedGet("inbox/none.csv", dashboard);

    expect(found.status).toBe(200);
    expect(found.headers.get("access-control-allow-origin")).toBe(dashboard);
    expect(found.headers.get("access-control-allow-methods")).toBe("GET, POST");
    expect(await found.text()).toBe("a,b\n1,2\n");
    expect(missing.status).toBe(404);
    expect(missing.headers.get("access-control-allow-origin")).toBe(dashboard);
  });

  it("adds no CORS headers to a request without an Origin, or from an origin no rule allows", async () => {
    const withoutOrigin = await presignedGet("inbox/data.csv", undefined);
    const fromElsewhere = await presignedPost(elsewhere);

    expect(withoutOrigin.status).toBe(200);
    expect(withoutOrigin.headers.get("access-control-allow-origin")).toBeNull();
    expect(withoutOrigin.headers.get("vary")).toBeNull();
    expect(fromElsewhere.status).toBe(204);
    expect(fromElsewhere.headers.get("access-control-allow-origin")).toBeNull();
  });
});
