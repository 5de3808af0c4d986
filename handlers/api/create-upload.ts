/** POST /uploads: a presigned POST into inbox/ (or inputs/ for predictions) with a size cap. */
import type { Ports } from "../../app/ports.js";
import { createUpload } from "../../app/uploads.js";
import { config } from "../../aws/config.js";
import { ports } from "../../aws/root.js";
import { ROUTES } from "../../core/api.js";
import { apiRoute } from "./http.js";

export function makeHandler(deps: { ports: Pick<Ports, "objects" | "now">; bucket: () => string }) {
  return apiRoute(ROUTES.createUpload, async ({ body }) => ({
    status: 201,
    body: await createUpload(deps.ports, body, deps.bucket()),
  }));
}

export const handler = makeHandler({ ports, bucket: () => config().bucket });
