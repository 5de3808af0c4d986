/**
 * Getting data into the bucket and finding it there: POST /uploads, a presigned POST into
 * inbox/ (or inputs/ for predictions) with a size cap; GET /inbox, the datasets already in inbox/.
 */
import type { z } from "zod";
import type { InboxPage, ListInboxQuery, UploadBody } from "../core/api.js";
import { classifyDrop, INBOX_PREFIX } from "../core/drops.js";
import { fileName } from "../core/runs.js";
import { planUpload, UPLOAD_EXPIRY_SECONDS } from "../core/uploads.js";
import type { Ports } from "./ports.js";

export async function createUpload(
  ports: Pick<Ports, "objects" | "now">,
  body: z.output<typeof UploadBody>,
  bucket: string,
) {
  const plan = planUpload(body);
  const post = await ports.objects.presignPost(
    bucket,
    plan.key,
    plan.maxBytes,
    plan.fields,
    UPLOAD_EXPIRY_SECONDS,
  );
  const expiresAt = new Date(ports.now().getTime() + UPLOAD_EXPIRY_SECONDS * 1000);
  return {
    url: post.url,
    fields: post.fields,
    key: plan.key,
    maxBytes: plan.maxBytes,
    expiresAt: expiresAt.toISOString(),
  };
}

/**
 * GET /inbox: a page of the objects under inbox/<prefix>, in S3's key order (ListObjectsV2
 * cannot sort by time). What a drop would not train on by itself is left out — sidecar option
 * files, folder markers, empty objects (the rule on-upload follows) — so a page may be shorter
 * than `limit` and still have a next. The cursor is S3's continuation token in base64url.
 */
export async function listInbox(
  ports: Pick<Ports, "objects">,
  query: z.output<typeof ListInboxQuery>,
  bucket: string,
): Promise<z.output<typeof InboxPage>> {
  const after = query.cursor ? Buffer.from(query.cursor, "base64url").toString("utf8") : undefined;
  const page = await ports.objects.listPage(
    bucket,
    `${INBOX_PREFIX}${query.prefix ?? ""}`,
    query.limit,
    after,
  );
  return {
    objects: page.objects
      .filter((object) => classifyDrop(object.key, object.size).action !== "ignore")
      .map((object) => ({
        key: object.key,
        name: fileName(object.key),
        size: object.size,
        lastModified: object.lastModified.toISOString(),
      })),
    ...(page.next ? { next: Buffer.from(page.next).toString("base64url") } : {}),
  };
}
