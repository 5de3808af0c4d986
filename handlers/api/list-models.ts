/** GET /models: registered model names with their latest and newest Approved versions. */
import { listModels } from "../../app/models.js";
import type { Ports } from "../../app/ports.js";
import { ports } from "../../aws/root.js";
import { ROUTES } from "../../core/api.js";
import { apiRoute } from "./http.js";

export function makeHandler(deps: { ports: Pick<Ports, "models"> }) {
  return apiRoute(ROUTES.listModels, async ({ query }) => {
    const page = await listModels(deps.ports, query.limit, query.cursor);
    return {
      status: 200,
      body: {
        models: page.models.map((model) => ({
          ...model,
          url: `/models/${encodeURIComponent(model.name)}`,
        })),
        ...(page.next ? { next: page.next } : {}),
      },
    };
  });
}

export const handler = makeHandler({ ports });
