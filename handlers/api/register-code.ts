/**
 * POST /code/{name}/versions: registers an uploaded archive of scripts (201), or answers the
 * version that already holds exactly these files (200).
 */
import { registerCode } from "../../app/code.js";
import type { Ports } from "../../app/ports.js";
import { config } from "../../aws/config.js";
import { ports } from "../../aws/root.js";
import { ROUTES } from "../../core/api.js";
import { apiRoute } from "./http.js";

export function makeHandler(deps: {
  ports: Pick<Ports, "objects" | "code" | "now">;
  bucket: () => string;
}) {
  return apiRoute(ROUTES.registerCode, async ({ params, body }) => {
    const { version, created } = await registerCode(deps.ports, {
      bucket: deps.bucket(),
      codeName: params.name,
      uploadKey: body.upload,
    });
    return { status: created ? 201 : 200, body: version };
  });
}

export const handler = makeHandler({ ports, bucket: () => config().bucket });
