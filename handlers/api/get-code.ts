/** GET /code/{name}: a code name's versions, newest first, each with its manifest. */
import { codeVersions } from "../../app/code.js";
import type { Ports } from "../../app/ports.js";
import { ports } from "../../aws/root.js";
import { ROUTES } from "../../core/api.js";
import { apiRoute } from "./http.js";

export function makeHandler(deps: { ports: Pick<Ports, "code"> }) {
  return apiRoute(ROUTES.getCode, async ({ params }) => ({
    status: 200,
    body: { name: params.name, versions: await codeVersions(deps.ports, params.name) },
  }));
}

export const handler = makeHandler({ ports });
