/**
 * The REST API's one request/response layer: API Gateway HTTP API (payload 2.0) events in,
 * parsed with the route's schemas from core/api.ts; answers out as JSON; every error a
 * problem document (RFC 9457) with a stable code, mapped here and nowhere else. A bug answers
 * 500 with the request id and no stack trace; the trace goes to the log.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { z } from "zod";
import type { Problem, RouteSpec } from "../../core/api.js";
import { ApiError } from "../../core/errors.js";
import { InvalidOptions } from "../../core/options.js";

const logger = new Logger({ serviceName: "modeldrop-api", logLevel: "INFO" });

/** Request bodies of this API are small JSON documents. */
export const MAX_BODY_BYTES = 64 * 1024;

export const HttpEvent = z.object({
  rawPath: z.string().optional(),
  headers: z.record(z.string(), z.string()).optional(),
  queryStringParameters: z.record(z.string(), z.string()).optional(),
  pathParameters: z.record(z.string(), z.string()).optional(),
  body: z.string().optional(),
  isBase64Encoded: z.boolean().optional(),
  requestContext: z
    .object({
      requestId: z.string().optional(),
      domainName: z.string().optional(),
      authorizer: z
        .object({ lambda: z.record(z.string(), z.unknown()).nullish() })
        .loose()
        .optional(),
    })
    .loose()
    .optional(),
});
export type HttpEvent = z.infer<typeof HttpEvent>;

export interface HttpAnswer {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

type Params<R> = R extends { params: infer P extends Record<string, z.ZodType> }
  ? { [K in keyof P]: z.output<P[K]> }
  : Record<string, never>;
type Query<R> = R extends { query: infer Q extends z.ZodType }
  ? z.output<Q>
  : Record<string, never>;
type Body<R> = R extends { body: infer B extends z.ZodType } ? z.output<B> : undefined;
/** One of the route's declared statuses with its body (checked against the schemas in tests). */
interface ResponseBody {
  status: number;
  body: unknown;
}

export interface Request<R> {
  params: Params<R>;
  query: Query<R>;
  body: Body<R>;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** Who the authorizer let in ("api-token" for the shared token). */
  principal: string;
  requestId: string;
}

export function problem(
  status: number,
  code: string,
  detail: string,
  field?: string,
): Problem & { status: number } {
  return {
    type: `https://modeldrop.dev/problems/${code}`,
    title: TITLES[status] ?? "Error",
    status,
    code,
    detail,
    ...(field ? { field } : {}),
  };
}

const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  409: "Conflict",
  413: "Content Too Large",
  500: "Internal Server Error",
};

function json(statusCode: number, body: unknown, type = "application/json"): HttpAnswer {
  return {
    statusCode,
    headers: { "content-type": type, "cache-control": "no-store" },
    body: JSON.stringify(body),
  };
}

function answerProblem(p: Problem): HttpAnswer {
  return json(p.status, p, "application/problem+json");
}

/** Issues carry the value at fault, so a missing field reads apart from one of the wrong type. */
const PARSE_OPTIONS = { reportInput: true };

/** The first zod issue as `field: message`, the field dotted from `prefix`. */
function invalid(error: z.ZodError, prefix: string): HttpAnswer {
  const issue = error.issues[0];
  const path = [prefix, ...(issue?.path ?? []).map(String)].filter(Boolean).join(".");
  let message = issue?.message ?? "is invalid";
  if (issue?.code === "unrecognized_keys") {
    const key = issue.keys[0] ?? "";
    const field = path ? `${path}.${key}` : key;
    return answerProblem(problem(400, "invalid-request", `${field} is not a known field`, field));
  }
  if (issue?.code === "invalid_type" && issue.input === undefined) message = "is required";
  return answerProblem(
    problem(400, "invalid-request", `${path || "the request"}: ${message}`, path),
  );
}

function parseBody(
  event: HttpEvent,
): { ok: true; value: unknown } | { ok: false; answer: HttpAnswer } {
  if (event.body === undefined || event.body === "") return { ok: true, value: {} };
  const text = event.isBase64Encoded
    ? Buffer.from(event.body, "base64").toString("utf8")
    : event.body;
  if (Buffer.byteLength(text) > MAX_BODY_BYTES)
    return {
      ok: false,
      answer: answerProblem(
        problem(413, "too-large", `request bodies are at most ${MAX_BODY_BYTES} bytes`),
      ),
    };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return {
      ok: false,
      answer: answerProblem(problem(400, "invalid-json", "the request body is not valid JSON")),
    };
  }
}

/**
 * Wraps a route's work: parses the event against the route's schemas (a 400 names the field),
 * runs it, and turns what it returns or throws into the HTTP answer.
 */
export function apiRoute<R extends RouteSpec>(
  spec: R,
  work: (request: Request<R>) => Promise<ResponseBody>,
) {
  return async (raw: unknown): Promise<HttpAnswer> => {
    const parsedEvent = HttpEvent.safeParse(raw);
    if (!parsedEvent.success)
      return answerProblem(problem(400, "invalid-request", "the request could not be read"));
    const event = parsedEvent.data;
    const requestId = event.requestContext?.requestId ?? "unknown";
    const headers = Object.fromEntries(
      Object.entries(event.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]),
    );
    const params = z
      .strictObject(spec.params ?? {})
      .safeParse(event.pathParameters ?? {}, PARSE_OPTIONS);
    if (!params.success) return invalid(params.error, "");
    const query = (spec.query ?? z.strictObject({})).safeParse(
      event.queryStringParameters ?? {},
      PARSE_OPTIONS,
    );
    if (!query.success) return invalid(query.error, "");
    let body: unknown;
    if (spec.body) {
      const read = parseBody(event);
      if (!read.ok) return read.answer;
      const checked = spec.body.safeParse(read.value, PARSE_OPTIONS);
      if (!checked.success) return invalid(checked.error, "");
      body = checked.data;
    }
    const principal = event.requestContext?.authorizer?.lambda?.principal;
    try {
      const result = await work({
        params: params.data as Params<R>,
        query: query.data as Query<R>,
        body: body as Body<R>,
        headers,
        principal: typeof principal === "string" ? principal : "anonymous",
        requestId,
      });
      return json(Number(result.status), result.body);
    } catch (error) {
      if (error instanceof ApiError)
        return answerProblem(problem(error.status, error.code, error.message, error.field));
      if (error instanceof InvalidOptions)
        return answerProblem(
          problem(400, "invalid-option", error.message, `options.${error.field}`),
        );
      logger.error("request failed", { requestId, path: event.rawPath, error });
      return answerProblem(
        problem(500, "internal-error", `modeldrop could not answer; request id ${requestId}`),
      );
    }
  };
}
