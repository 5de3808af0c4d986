import { readFileSync } from "node:fs";
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { createPresignedPost } from "@aws-sdk/s3-presigned-post";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalCloud } from "../../local/cloud.js";
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
