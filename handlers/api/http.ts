/**
 * The REST API's one request/response layer, on the shared plumbing (handlers/lambda.ts): the
 * API Gateway HTTP API event (payload 2.0) parsed with Powertools' built-in schema, then with
 * the route's schemas from core/api.ts; answers out as JSON; every error a problem document
 * (RFC 9457) with a stable code, mapped here and nowhere else. A bug answers 500 with the
 * request id and no stack trace; the trace goes to the log. Every 200 to a GET carries a strong
 * ETag of its body, and a GET whose If-None-Match lists it is answered 304 with no body, so a
 * poller (the dashboard) learns "nothing changed" without reading the run again.
 */
import { createHash } from "node:crypto";
import { APIGatewayProxyEventV2Schema } from "@aws-lambda-powertools/parser/schemas";
import { z } from "zod";
import type { Problem, RouteSpec } from "../../core/api.js";
import { PARSE_OPTIONS, requestIssue } from "../../core/api-issues.js";
import { ApiError } from "../../core/errors.js";
import { InvalidOptions } from "../../core/options.js";
import { answeringHandler, logger } from "../lambda.js";

/** Request bodies of this API are small JSON documents. */
const MAX_BODY_BYTES = 64 * 1024;

type HttpEvent = z.infer<typeof APIGatewayProxyEventV2Schema>;

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
  /** A raw route's body as it came, with its media type (one the route takes). */
  raw: R extends { raw: object } ? { bytes: Buffer; type: string } : undefined;
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
  415: "Unsupported Media Type",
  500: "Internal Server Error",
  502: "Bad Gateway",
};

/**
 * `no-store`, not `no-cache, private`: the answers carry presigned links that read the bucket,
 * and a browser keeps what it may store on disk. A client that polls keeps the last body and its
 * ETag itself and sends If-None-Match (fetch passes a script's own conditional request and its
 * 304 through, bypassing the HTTP cache), which works the same under `no-store`.
 */
const CACHE_CONTROL = "no-store";

function json(statusCode: number, body: unknown, type = "application/json"): HttpAnswer {
  return {
    statusCode,
    headers: { "content-type": type, "cache-control": CACHE_CONTROL },
    body: JSON.stringify(body),
  };
}

/** A strong entity tag of the body: the same bytes always give the same tag. */
function entityTag(body: string): string {
  return `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`;
}

/**
 * Whether an If-None-Match value names `tag` (RFC 9110 §13.1.2): `*` names any current answer;
 * otherwise a comma-separated list of entity tags, compared weakly (`W/"x"` names `"x"`). An
 * entity tag may itself hold commas, so the tags are picked out by their quotes, not split.
 */
function ifNoneMatchNames(header: string | undefined, tag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === "*") return true;
  return [...header.matchAll(/(?:W\/)?("[^"]*")/g)].some((match) => match[1] === tag);
}

function answerProblem(p: Problem): HttpAnswer {
  return json(p.status, p, "application/problem+json");
}

/** The first zod issue, worded as core/api-issues.ts words it (the dashboard shows the same). */
function invalid(error: z.ZodError, prefix: string): HttpAnswer {
  const { field, detail } = requestIssue(error.issues[0], prefix);
  return answerProblem(problem(400, "invalid-request", detail, field));
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

/** A raw route's body: its bytes (API Gateway base64-encodes binary ones) and media type. */
function readRaw(
  spec: NonNullable<RouteSpec["raw"]>,
  event: HttpEvent,
  headers: Record<string, string>,
): { ok: true; value: { bytes: Buffer; type: string } } | { ok: false; answer: HttpAnswer } {
  const type = (headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (!spec.types.includes(type))
    return {
      ok: false,
      answer: answerProblem(
        problem(
          415,
          "unsupported-media-type",
          `${type ? `Content-Type ${type} is not taken here` : "the request has no Content-Type"}; send one of ${spec.types.join(", ")}`,
          "body",
        ),
      ),
    };
  const bytes = Buffer.from(event.body ?? "", event.isBase64Encoded ? "base64" : "utf8");
  if (bytes.length > spec.maxBytes)
    return {
      ok: false,
      answer: answerProblem(
        problem(413, "too-large", `the body is ${bytes.length} bytes; at most ${spec.maxBytes}`),
      ),
    };
  if (bytes.length === 0)
    return {
      ok: false,
      answer: answerProblem(problem(400, "invalid-request", "the body is empty", "body")),
    };
  return { ok: true, value: { bytes, type } };
}

/** An error a route threw, as the problem document the caller gets. */
function answerFor(error: unknown, event: HttpEvent | undefined): HttpAnswer {
  if (error instanceof ApiError)
    return answerProblem(problem(error.status, error.code, error.message, error.field));
  if (error instanceof InvalidOptions)
    return answerProblem(problem(400, "invalid-option", error.message, `options.${error.field}`));
  const requestId = event?.requestContext.requestId ?? "unknown";
  logger.error("request failed", { requestId, path: event?.rawPath, error });
  return answerProblem(
    problem(500, "internal-error", `modeldrop could not answer; request id ${requestId}`),
  );
}

/**
 * The route's own answer, with a Location header on a 202 that names where to follow the work,
 * and an ETag on a GET's 200 (304 and no body when the request's If-None-Match names it).
 */
function answerWith(
  spec: RouteSpec,
  headers: Record<string, string>,
  result: ResponseBody,
): HttpAnswer {
  const answer = json(Number(result.status), result.body);
  const body = result.body;
  if (result.status === 202 && typeof body === "object" && body !== null && "url" in body)
    if (typeof body.url === "string") answer.headers.location = body.url;
  if (spec.method === "GET" && answer.statusCode === 200) {
    const etag = entityTag(answer.body);
    answer.headers.etag = etag;
    // A 304 repeats the validator and caching headers of the 200 it stands for, nothing else.
    if (ifNoneMatchNames(headers["if-none-match"], etag))
      return { statusCode: 304, headers: { etag, "cache-control": CACHE_CONTROL }, body: "" };
  }
  return answer;
}

/** The route's parameters, query and body, parsed with its schemas; a 400 names the field. */
function readRequest<R extends RouteSpec>(
  spec: R,
  event: HttpEvent,
): { ok: true; request: Request<R> } | { ok: false; answer: HttpAnswer } {
  const headers = Object.fromEntries(
    Object.entries(event.headers).map(([name, value]) => [name.toLowerCase(), value ?? ""]),
  );
  const params = z
    .strictObject(spec.params ?? {})
    .safeParse(event.pathParameters ?? {}, PARSE_OPTIONS);
  if (!params.success) return { ok: false, answer: invalid(params.error, "") };
  const query = (spec.query ?? z.strictObject({})).safeParse(
    event.queryStringParameters ?? {},
    PARSE_OPTIONS,
  );
  if (!query.success) return { ok: false, answer: invalid(query.error, "") };
  let body: unknown;
  if (spec.body) {
    const read = parseBody(event);
    if (!read.ok) return read;
    const checked = spec.body.safeParse(read.value, PARSE_OPTIONS);
    if (!checked.success) return { ok: false, answer: invalid(checked.error, "") };
    body = checked.data;
  }
  let raw: { bytes: Buffer; type: string } | undefined;
  if (spec.raw) {
    const read = readRaw(spec.raw, event, headers);
    if (!read.ok) return read;
    raw = read.value;
  }
  const principal = event.requestContext.authorizer?.lambda?.principal;
  return {
    ok: true,
    request: {
      params: params.data as Params<R>,
      query: query.data as Query<R>,
      body: body as Body<R>,
      raw: raw as Request<R>["raw"],
      headers,
      principal: typeof principal === "string" ? principal : "anonymous",
      requestId: event.requestContext.requestId,
    },
  };
}

/**
 * A route's handler: the event parsed (an event that is not API Gateway's answers 400), the
 * route's work run on the parsed request, and what it returns or throws turned into the HTTP
 * answer by a middy onError middleware.
 */
export function apiRoute<R extends RouteSpec>(
  spec: R,
  work: (request: Request<R>) => Promise<ResponseBody>,
) {
  return answeringHandler(APIGatewayProxyEventV2Schema, async (parsed): Promise<HttpAnswer> => {
    if (!parsed.success) {
      logger.warn("not an API Gateway HTTP API event", { error: parsed.error.message });
      return answerProblem(problem(400, "invalid-request", "the request could not be read"));
    }
    const read = readRequest(spec, parsed.data);
    if (!read.ok) return read.answer;
    return answerWith(spec, read.request.headers, await work(read.request));
  }).use({
    onError: async (request) => {
      const parsed = request.event;
      request.response = answerFor(request.error, parsed.success ? parsed.data : undefined);
    },
  });
}
