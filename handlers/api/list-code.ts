/** GET /code: registered code names with their newest version. */
import { listCode } from "../../app/code.js";
import type { Ports } from "../../app/ports.js";
import { ports } from "../../aws/root.js";
import { ROUTES } from "../../core/api.js";
import { apiRoute } from "./http.js";

export function makeHandler(deps: { ports: Pick<Ports, "code"> }) {
  return apiRoute(ROUTES.listCode, async ({ query }) => {
    const page = await listCode(deps.ports, query.limit, query.cursor);
    return {
      status: 200,
      body: {
        code: page.names.map((entry) => ({
          ...entry,
          url: `/code/${encodeURIComponent(entry.name)}`,
        })),
        ...(page.next ? { next: page.next } : {}),
      },
    };
  });
}

export const handler = makeHandler({ ports });
