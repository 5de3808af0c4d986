/** GET /inbox: the datasets already in inbox/, a page at a time, to start a run on one. */
import type { Ports } from "../../app/ports.js";
import { listInbox } from "../../app/uploads.js";
import { config } from "../../aws/config.js";
import { ports } from "../../aws/root.js";
import { ROUTES } from "../../core/api.js";
import { apiRoute } from "./http.js";

export function makeHandler(deps: { ports: Pick<Ports, "objects">; bucket: () => string }) {
  return apiRoute(ROUTES.listInbox, async ({ query }) => ({
    status: 200,
    body: await listInbox(deps.ports, query, deps.bucket()),
  }));
}

export const handler = makeHandler({ ports, bucket: () => config().bucket });
