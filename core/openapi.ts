/**
 * `GET /openapi.json`: the OpenAPI 3.1 description, generated from the route table and the
 * zod schemas in core/api.ts, so the document cannot drift from what the handlers accept.
 */
import { z } from "zod";
import { Problem, ROUTES, type RouteSpec } from "./api.js";

type JsonSchema = Record<string, unknown>;

function schema(type: z.ZodType, io: "input" | "output"): JsonSchema {
  const { $schema: _, ...rest } = z.toJSONSchema(type, { target: "draft-2020-12", io });
  return rest;
}

/** API Gateway's own error body (`{"message":"Not Found"}`…), sent before or instead of a handler. */
const GATEWAY_ERROR = {
  type: "object",
  properties: { message: { type: "string" } },
  required: ["message"],
};

/**
 * An error answer: a problem document from modeldrop and, with `gateway`, API Gateway's own
 * body for the same status (the two are told apart by their content type).
 */
function errorResponse(description: string, gateway?: string) {
  return {
    description: gateway ? `${description}; API Gateway's own answer when ${gateway}` : description,
    content: {
      "application/problem+json": { schema: schema(Problem, "output") },
      ...(gateway ? { "application/json": { schema: GATEWAY_ERROR } } : {}),
    },
  };
}

function gatewayResponse(description: string) {
  return {
    description: `${description} (API Gateway's own answer)`,
    content: { "application/json": { schema: GATEWAY_ERROR } },
  };
}

/** The 4xx/5xx a route can answer, besides its own successes. */
function errorResponses(spec: RouteSpec): Record<string, unknown> {
  const responses: Record<string, unknown> = {
    // Every route parses its query against its schema, so an unknown parameter is a 400 even
    // on a route that takes none.
    400: errorResponse("the request is invalid; `field` names the part at fault"),
    // The gateway's limit on the request line and headers (API Gateway: 10 KiB in all); the
    // local cloud's HTTP server refuses over 16 KiB. The answer has no body.
    431: { description: "the request line and headers are larger than the gateway reads" },
    500: errorResponse(
      "modeldrop failed; the detail carries the request id",
      "the function or the authorizer failed",
    ),
  };
  if (spec.auth) {
    responses[401] = gatewayResponse("no bearer token");
    responses[403] = gatewayResponse("the token is not the API token");
  }
  if (spec.params)
    responses[404] = errorResponse(
      "the run, model, version or object does not exist",
      "an empty or dot-segment path parameter leaves the path matching no route",
    );
  else if (spec.method !== "GET")
    responses[404] = errorResponse("the object or model the request names does not exist");
  if (spec.raw)
    responses[415] = errorResponse("the body's Content-Type is not one this route takes");
  if (spec.method !== "GET") {
    responses[409] = errorResponse("the change conflicts with the current state");
    responses[413] = errorResponse(
      "more bytes than modeldrop accepts",
      "the body is over API Gateway's 10 MB",
    );
  }
  return responses;
}

function parameters(spec: RouteSpec): unknown[] {
  const list: unknown[] = [];
  for (const [name, type] of Object.entries(spec.params ?? {}))
    list.push({ name, in: "path", required: true, schema: schema(type, "input") });
  if (spec.query) {
    const query = schema(spec.query, "input");
    const properties = (query.properties ?? {}) as Record<string, JsonSchema>;
    const required = new Set((query.required as string[] | undefined) ?? []);
    for (const [name, property] of Object.entries(properties))
      list.push({
        name,
        in: "query",
        required: required.has(name),
        schema: property,
        ...(typeof property.description === "string" ? { description: property.description } : {}),
      });
  }
  if (spec.method === "GET")
    list.push({
      name: "If-None-Match",
      in: "header",
      required: false,
      description:
        "the ETag of an answer you kept (or a comma-separated list, or *): 304 and no body while it is still the answer",
      schema: { type: "string", minLength: 1, maxLength: 2000, pattern: "^[\\x20-\\x7e]+$" },
    });
  for (const [name, header] of Object.entries(spec.headers ?? {}))
    list.push({
      name,
      in: "header",
      required: false,
      description: header.description,
      schema: { type: "string", minLength: 1, maxLength: 200, pattern: "^[\\x21-\\x7e]+$" },
    });
  return list;
}

/** A body taken as it comes: text types as strings, images as binary. */
function rawBody(raw: NonNullable<RouteSpec["raw"]>): unknown {
  const content: Record<string, unknown> = {};
  for (const type of raw.types)
    content[type] = {
      schema: type.startsWith("image/")
        ? { type: "string", contentMediaType: type, maxLength: raw.maxBytes }
        : { type: "string", minLength: 1, maxLength: raw.maxBytes },
    };
  return { required: true, description: raw.description, content };
}

/**
 * Every 202 names where the client follows the work it started (the body's `url`): the run, or
 * the endpoint.
 */
const LOCATION_HEADER = {
  description: "the path of the run or endpoint the request started work on, where to follow it",
  required: true,
  schema: { type: "string", pattern: "^/(runs|models)/" },
};

/** Every 200 to a GET carries a strong ETag of its body (handlers/api/http.ts). */
const ETAG_HEADER = {
  description: "a strong validator of this body: send it back as If-None-Match",
  required: true,
  schema: { type: "string", pattern: '^"[A-Za-z0-9_-]+"$' },
};

/** The headers a successful answer carries besides its content type. */
function successHeaders(spec: RouteSpec, status: string): Record<string, unknown> | undefined {
  if (status === "202") return { Location: LOCATION_HEADER };
  if (status === "200" && spec.method === "GET") return { ETag: ETAG_HEADER };
  return undefined;
}

export function openApiDocument(serverUrl?: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [operationId, spec] of Object.entries(ROUTES) as [string, RouteSpec][]) {
    const responses: Record<string, unknown> = errorResponses(spec);
    for (const [status, body] of Object.entries(spec.responses)) {
      const headers = successHeaders(spec, status);
      responses[status] = {
        description: spec.summary,
        ...(headers ? { headers } : {}),
        ...(body ? { content: { "application/json": { schema: schema(body, "output") } } } : {}),
      };
    }
    if (spec.method === "GET" && "200" in spec.responses)
      responses[304] = {
        description: "the If-None-Match ETag is still this answer's: no body",
        headers: { ETag: ETAG_HEADER },
      };
    const operation = {
      operationId,
      summary: spec.summary,
      ...(spec.auth ? {} : { security: [] }),
      parameters: parameters(spec),
      ...(spec.body
        ? {
            requestBody: {
              // A DELETE's body is optional: `{}` is what an absent one means.
              required: spec.method !== "DELETE",
              content: { "application/json": { schema: schema(spec.body, "input") } },
            },
          }
        : {}),
      ...(spec.raw ? { requestBody: rawBody(spec.raw) } : {}),
      responses,
    };
    paths[spec.path] = { ...(paths[spec.path] ?? {}), [spec.method.toLowerCase()]: operation };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "modeldrop",
      version: "1",
      description:
        "Drop a dataset in, get a trained, evaluated, registered model out. Every route but /health needs `Authorization: Bearer <token>`.",
    },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
    security: [{ bearer: [] }],
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
    paths,
  };
}
