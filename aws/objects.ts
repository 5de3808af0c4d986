/** S3 reads and writes the handlers need: object heads, small texts, copies of exact versions. */
import {
  CopyObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { createPresignedPost } from "@aws-sdk/s3-presigned-post";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import type { ObjectHead, ObjectStore, PresignedPost } from "../app/ports.js";
import { InvalidRequest } from "../core/errors.js";

function isMissing(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error.name === "NotFound" || error.name === "NoSuchKey" || error.name === "NoSuchVersion")
  );
}

export class Objects implements ObjectStore {
  constructor(private readonly s3: S3Client) {}

  /** The object's head, or undefined when it (or that version) does not exist. */
  async head(bucket: string, key: string, versionId?: string): Promise<ObjectHead | undefined> {
    try {
      const head = await this.s3.send(
        new HeadObjectCommand({
          Bucket: bucket,
          Key: key,
          ...(versionId ? { VersionId: versionId } : {}),
        }),
      );
      return {
        size: head.ContentLength ?? 0,
        lastModified: head.LastModified,
        metadata: head.Metadata ?? {},
        versionId: head.VersionId,
      };
    } catch (error) {
      if (isMissing(error)) return undefined;
      // S3 answers a malformed version id with 400 (InvalidArgument), not 404.
      const status =
        error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
      if (versionId && status === 400)
        throw new InvalidRequest(`versionId ${versionId} is not a version id of ${key}`, {
          field: "versionId",
          cause: error,
        });
      throw error;
    }
  }

  async getBuffer(bucket: string, key: string): Promise<Buffer | undefined> {
    try {
      const object = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return Buffer.from((await object.Body?.transformToByteArray()) ?? []);
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async getText(bucket: string, key: string): Promise<string | undefined> {
    return (await this.getBuffer(bucket, key))?.toString("utf8");
  }

  async putObject(
    bucket: string,
    key: string,
    body: string | Buffer,
    contentType: string,
  ): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }),
    );
  }

  /** Copies one exact version to another key (SageMaker reads keys, not versions). */
  async copyVersion(bucket: string, key: string, versionId: string, to: string): Promise<void> {
    const source = `${bucket}/${encodeURIComponent(key).replaceAll("%2F", "/")}?versionId=${encodeURIComponent(versionId)}`;
    await this.s3.send(new CopyObjectCommand({ Bucket: bucket, Key: to, CopySource: source }));
  }

  async listKeys(bucket: string, prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const item of page.Contents ?? []) if (item.Key) keys.push(item.Key);
      token = page.NextContinuationToken;
    } while (token);
    return keys;
  }

  /** A GET URL for one object, valid for `seconds`. */
  async presignGet(bucket: string, key: string, seconds = 3600): Promise<string> {
    return getSignedUrl(this.s3, new GetObjectCommand({ Bucket: bucket, Key: key }), {
      expiresIn: seconds,
    });
  }

  /**
   * A browser-style POST upload of exactly `key`, at most `maxBytes`, carrying `fields` (such
   * as `x-amz-meta-*`) that the policy pins to these values.
   */
  async presignPost(
    bucket: string,
    key: string,
    maxBytes: number,
    fields: Record<string, string>,
    seconds: number,
  ): Promise<PresignedPost> {
    return createPresignedPost(this.s3, {
      Bucket: bucket,
      Key: key,
      Conditions: [
        ["content-length-range", 1, maxBytes],
        ...Object.entries(fields).map(([name, value]) => ({ [name]: value })),
      ],
      Fields: fields,
      Expires: seconds,
    });
  }
}
