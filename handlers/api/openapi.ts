/** GET /openapi.json: the API's description, generated from the same schemas the routes parse. */
import { ROUTES } from "../../core/api.js";
import { openApiDocument } from "../../core/openapi.js";
import { apiRoute } from "./http.js";

export const handler = apiRoute(ROUTES.openapi, async () => ({
  status: 200,
  body: openApiDocument(),
}));
