/** POST /uploads: a presigned POST into inbox/ (or inputs/ for predictions) with a size cap. */
import { readEnvironment } from "../../aws/config.js";
import { type Root, root } from "../../aws/root.js";
import { ROUTES } from "../../core/api.js";
import { planUpload, UPLOAD_EXPIRY_SECONDS } from "../../core/uploads.js";
import { apiRoute } from "./http.js";

export function makeHandler(deps: {
  root: Pick<Root, "objects">;
  bucket: () => string;
  now: () => Date;
}) {
  return apiRoute(ROUTES.createUpload, async ({ body }) => {
    const plan = planUpload(body);
    const post = await deps.root
      .objects()
      .presignPost(deps.bucket(), plan.key, plan.maxBytes, plan.fields, UPLOAD_EXPIRY_SECONDS);
    const expiresAt = new Date(deps.now().getTime() + UPLOAD_EXPIRY_SECONDS * 1000);
    return {
      status: 201,
      body: {
        url: post.url,
        fields: post.fields,
        key: plan.key,
        maxBytes: plan.maxBytes,
        expiresAt: expiresAt.toISOString(),
      },
    };
  });
}

export const handler = makeHandler({
  root,
  bucket: () => readEnvironment(["DATA_BUCKET"]).DATA_BUCKET,
  now: () => new Date(),
});
