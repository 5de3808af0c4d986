/** GET /health: answers while the API is up; the one route without a token. */
import { ROUTES } from "../../core/api.js";
import { apiRoute } from "./http.js";

export const handler = apiRoute(ROUTES.health, async () => ({
  status: 200,
  body: { status: "ok", service: "modeldrop" },
}));
