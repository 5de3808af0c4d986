/** POST /uploads: a presigned POST into inbox/ (or inputs/ for predictions) with a size cap. */
import type { z } from "zod";
import type { UploadBody } from "../core/api.js";
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
