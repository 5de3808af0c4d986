/**
 * POST /models/{name}/invoke: the body as it came (CSV, JSON rows, JSON lines, an image) to the
 * model's endpoint; its JSON-lines answer back as a list of predictions, one per row.
 */
import { invokeModel } from "../../app/endpoints.js";
import type { Ports } from "../../app/ports.js";
import { ports } from "../../aws/root.js";
import { ROUTES } from "../../core/api.js";
import { apiRoute } from "./http.js";

/** JSON lines or a JSON document as a list; undefined when the answer is not JSON. */
function predictionsOf(text: string): unknown[] | undefined {
  try {
    const whole: unknown = JSON.parse(text);
    return Array.isArray(whole) ? whole : [whole];
  } catch {
    /* JSON lines, or not JSON */
  }
  try {
    return text
      .split("\n")
      .filter((line) => line.trim())
      .map((line) => JSON.parse(line) as unknown);
  } catch {
    return undefined;
  }
}

export function makeHandler(deps: { ports: Pick<Ports, "endpoints" | "hosting" | "now"> }) {
  return apiRoute(ROUTES.invokeModel, async ({ params, query, raw }) => {
    const answered = await invokeModel(deps.ports, {
      modelName: params.name,
      mode: query.mode,
      body: raw.bytes,
      // modeldrop's serving code reads JSON rows under either JSON type.
      contentType: raw.type,
      accept: "application/jsonlines",
    });
    const text = answered.body.toString("utf8");
    const predictions = predictionsOf(text);
    return {
      status: 200,
      body: {
        modelName: params.name,
        version: answered.endpoint.version,
        mode: answered.endpoint.mode,
        endpoint: answered.endpoint.name,
        ...(predictions ? { predictions } : { output: text }),
        contentType: answered.contentType,
      },
    };
  });
}

export const handler = makeHandler({ ports });
