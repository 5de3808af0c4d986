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
import type {
  ListedObject,
  ObjectHead,
  ObjectPage,
  ObjectStore,
  PresignedPost,
} from "../app/ports.js";
import { InvalidRequest } from "../core/errors.js";

function isMissing(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error.name === "NotFound" || error.name === "NoSuchKey" || error.name === "NoSuchVersion")
  );
}

/** Presigned GETs are signed as at the start of such a window (see presignGet). */
const SIGNING_WINDOW_SECONDS = 600;

export class Objects implements ObjectStore {
  constructor(
    private readonly s3: S3Client,
    private readonly now: () => Date = () => new Date(),
  ) {}

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

  /**
   * One page of the objects under `prefix`. A continuation token S3 does not take (a cursor
   * that was not one of its `next`s) is the request's fault: 400 naming the cursor.
   */
  async listPage(
    bucket: string,
    prefix: string,
    limit: number,
    after?: string,
  ): Promise<ObjectPage> {
    try {
      const page = await this.s3.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: prefix,
          MaxKeys: limit,
          ...(after ? { ContinuationToken: after } : {}),
        }),
      );
      // S3 gives every listed object a key and a time; the types only say they may be absent.
      const objects = (page.Contents ?? []).flatMap((item): ListedObject[] =>
        item.Key && item.LastModified
          ? [{ key: item.Key, size: item.Size ?? 0, lastModified: item.LastModified }]
          : [],
      );
      return {
        objects,
        ...(page.IsTruncated && page.NextContinuationToken
          ? { next: page.NextContinuationToken }
          : {}),
      };
    } catch (error) {
      const status =
        error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
      if (after && status === 400)
        throw new InvalidRequest("cursor is not one this API gave out", {
          field: "cursor",
          cause: error,
        });
      throw error;
    }
  }

  /**
   * A GET URL for one object, valid for at least `seconds`. It is signed as at the start of the
   * current 10-minute window and expires a window later, so the same object gets the same URL
   * all window long: an answer that links it keeps its ETag while nothing else changed, and a
   * dashboard polling GET /runs/{id} gets 304s instead of a new signature every second.
   */
  async presignGet(bucket: string, key: string, seconds = 3600): Promise<string> {
    const now = this.now().getTime();
    const windowMs = SIGNING_WINDOW_SECONDS * 1000;
    return getSignedUrl(this.s3, new GetObjectCommand({ Bucket: bucket, Key: key }), {
      signingDate: new Date(now - (now % windowMs)),
      expiresIn: seconds + SIGNING_WINDOW_SECONDS,
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
