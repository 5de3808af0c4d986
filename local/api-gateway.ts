// API Gateway HTTP APIs (v2): an HTTP listener that matches each request to one of the
// template's routes, runs the route's Lambda REQUEST authorizer first, and invokes the
// integration's function with the payload format 2.0 event, mapping its answer back to HTTP as
// API Gateway does. Error answers carry API Gateway's own bodies (`{"message":"Not Found"}`…).
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { isRecord } from "./http.js";
import type { FunctionInvoker, InvokeResult } from "./stepfunctions.js";

/** HTTP APIs refuse request bodies over 10 MB. */
export const MAX_API_PAYLOAD_BYTES = 10 * 1024 * 1024;

export interface ApiAuthorizer {
  name: string;
  functionArn: string;
  /** `$request.header.Authorization`, `$request.querystring.token`, … */
  identitySource: string[];
  simpleResponses: boolean;
  ttlSeconds: number;
}

export interface ApiRoute {
  apiId: string;
  /** `GET /runs/{id}`, `ANY /files/{proxy+}` or `$default`. */
  routeKey: string;
  functionArn: string;
  timeoutMs: number;
  authorizer?: ApiAuthorizer;
}

interface Request {
  method: string;
  rawPath: string;
  rawQueryString: string;
  headers: Record<string, string>;
  query: Record<string, string>;
  cookies: string[];
  body: Buffer;
  sourceIp: string;
}

interface Matched {
  route: ApiRoute;
  pathParameters: Record<string, string>;
}

type Answer = { status: number; headers: Record<string, string | string[]>; body: Buffer };

const TEXT_TYPES =
  /^(text\/|application\/(json|xml|javascript|x-www-form-urlencoded|[\w.+-]*\+(json|xml))\b)/i;

export class ApiGatewayService {
  private routes: ApiRoute[] = [];
  private readonly authorizerCache = new Map<
    string,
    { until: number; context: Record<string, unknown> }
  >();

  constructor(
    private readonly region: string,
    private readonly account: string,
    private readonly invoke: FunctionInvoker,
    private readonly log: (line: string) => void = () => {},
  ) {}

  /** Replaces the served routes (the stack's current version). */
  define(routes: ApiRoute[]): void {
    const seen = new Set<string>();
    for (const route of routes) {
      if (seen.has(route.routeKey))
        throw new Error(`API Gateway: two routes share the route key ${route.routeKey}`);
      seen.add(route.routeKey);
    }
    this.routes = routes;
    this.authorizerCache.clear();
  }

  get routeKeys(): string[] {
    return this.routes.map((r) => r.routeKey);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const answer = await this.answer(req, requestId).catch((error: unknown): Answer => {
      this.log(`api gateway: request ${requestId} failed: ${String(error)}`);
      return message(500, "Internal Server Error");
    });
    res.writeHead(answer.status, { ...answer.headers, "apigw-requestid": requestId });
    res.end(answer.body);
  }

  private async answer(req: IncomingMessage, requestId: string): Promise<Answer> {
    const request = await readRequest(req);
    if (request === "too-large") return message(413, "Request Entity Too Large");
    const matched = this.match(request.method, request.rawPath);
    if (!matched) return message(404, "Not Found");
    const { route, pathParameters } = matched;
    const requestContext = this.requestContext(route, request, requestId);
    const base = {
      version: "2.0",
      routeKey: route.routeKey,
      rawPath: request.rawPath,
      rawQueryString: request.rawQueryString,
      ...(request.cookies.length > 0 ? { cookies: request.cookies } : {}),
      headers: request.headers,
      ...(Object.keys(request.query).length > 0 ? { queryStringParameters: request.query } : {}),
      ...(Object.keys(pathParameters).length > 0 ? { pathParameters } : {}),
    };
    if (route.authorizer) {
      const verdict = await this.authorize(route, route.authorizer, base, request, requestContext);
      if (verdict.status) return verdict.status;
      requestContext.authorizer = { lambda: verdict.context };
    }
    const text =
      request.body.length === 0 || TEXT_TYPES.test(request.headers["content-type"] ?? "");
    const event = {
      ...base,
      requestContext,
      ...(request.body.length > 0 ? { body: request.body.toString(text ? "utf8" : "base64") } : {}),
      isBase64Encoded: !text,
    };
    const result = await withTimeout(this.invoke(route.functionArn, event), route.timeoutMs);
    if (result === "timeout") return message(503, "Service Unavailable");
    if (result.error) {
      this.log(
        `api gateway: ${route.routeKey}: ${result.error.errorType}: ${result.error.errorMessage}`,
      );
      return message(500, "Internal Server Error");
    }
    return toAnswer(result.payload);
  }

  /** The most specific route wins: literal segments over variables, variables over greedy ones. */
  private match(method: string, path: string): Matched | undefined {
    let best: { matched: Matched; score: number[] } | undefined;
    for (const route of this.routes) {
      const found = matchRoute(route, method, path);
      if (!found) continue;
      if (!best || compareScores(found.score, best.score) > 0)
        best = { matched: { route, pathParameters: found.parameters }, score: found.score };
    }
    return best?.matched;
  }

  private requestContext(
    route: ApiRoute,
    request: Request,
    requestId: string,
  ): Record<string, unknown> {
    const now = new Date();
    return {
      accountId: this.account,
      apiId: route.apiId,
      domainName: request.headers.host ?? "127.0.0.1",
      domainPrefix: (request.headers.host ?? "127").split(".")[0],
      http: {
        method: request.method,
        path: request.rawPath,
        protocol: "HTTP/1.1",
        sourceIp: request.sourceIp,
        userAgent: request.headers["user-agent"] ?? "",
      },
      requestId,
      routeKey: route.routeKey,
      stage: "$default",
      time: clfTime(now),
      timeEpoch: now.getTime(),
    };
  }

  private async authorize(
    route: ApiRoute,
    authorizer: ApiAuthorizer,
    base: Record<string, unknown>,
    request: Request,
    requestContext: Record<string, unknown>,
  ): Promise<{ status?: Answer; context?: Record<string, unknown> }> {
    const identity = authorizer.identitySource.map((source) => identityValue(source, request));
    // A request without every identity source is refused without calling the authorizer.
    if (identity.some((value) => value === undefined || value === ""))
      return { status: message(401, "Unauthorized") };
    const cacheKey = `${authorizer.name}\n${identity.join("\n")}`;
    const cached = this.authorizerCache.get(cacheKey);
    if (cached && cached.until > Date.now()) return { context: cached.context };
    const [method, path] = route.routeKey === "$default" ? ["*", "*"] : route.routeKey.split(" ");
    const event = {
      ...base,
      type: "REQUEST",
      routeArn: `arn:aws:execute-api:${this.region}:${this.account}:${route.apiId}/$default/${method}${path}`,
      identitySource: identity,
      requestContext,
    };
    const result = await this.invoke(authorizer.functionArn, event);
    if (result.error || !isRecord(result.payload))
      return { status: message(500, "Internal Server Error") };
    const answer = result.payload;
    const allowed = authorizer.simpleResponses
      ? answer.isAuthorized === true
      : policyAllows(answer.policyDocument);
    if (!allowed) return { status: message(403, "Forbidden") };
    const context = isRecord(answer.context) ? answer.context : {};
    if (authorizer.ttlSeconds > 0)
      this.authorizerCache.set(cacheKey, {
        until: Date.now() + authorizer.ttlSeconds * 1000,
        context,
      });
    return { context };
  }
}

async function readRequest(req: IncomingMessage): Promise<Request | "too-large"> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > MAX_API_PAYLOAD_BYTES) return "too-large";
    chunks.push(buffer);
  }
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  const rawQueryString = q < 0 ? "" : url.slice(q + 1);
  const query: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(rawQueryString))
    query[key] = key in query ? `${query[key]},${value}` : value;
  const headers: Record<string, string> = {};
  let cookies: string[] = [];
  // rawHeaders keeps duplicates apart; HTTP APIs join them with commas and move cookies out.
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = (req.rawHeaders[i] ?? "").toLowerCase();
    const value = req.rawHeaders[i + 1] ?? "";
    if (name === "cookie") cookies = cookies.concat(value.split(/;\s*/).filter(Boolean));
    else headers[name] = name in headers ? `${headers[name]},${value}` : value;
  }
  return {
    method: (req.method ?? "GET").toUpperCase(),
    rawPath: q < 0 ? url : url.slice(0, q),
    rawQueryString,
    headers,
    query,
    cookies,
    body: Buffer.concat(chunks),
    sourceIp: req.socket.remoteAddress?.replace(/^::ffff:/, "") ?? "127.0.0.1",
  };
}

function matchRoute(
  route: ApiRoute,
  method: string,
  path: string,
): { parameters: Record<string, string>; score: number[] } | undefined {
  if (route.routeKey === "$default") return { parameters: {}, score: [-1] };
  const [routeMethod = "", routePath = ""] = route.routeKey.split(" ");
  if (routeMethod !== "ANY" && routeMethod !== method) return undefined;
  const wanted = routePath.split("/").filter(Boolean);
  const actual = path.split("/").filter(Boolean);
  const parameters: Record<string, string> = {};
  // Per segment: 3 literal, 2 variable, 1 greedy; an exact method beats ANY.
  const score: number[] = [];
  for (const [i, segment] of wanted.entries()) {
    const greedy = /^\{(\w+)\+\}$/.exec(segment);
    if (greedy) {
      if (i !== wanted.length - 1 || actual.length <= i) return undefined;
      parameters[greedy[1] as string] = decodeSegments(actual.slice(i).join("/"));
      score.push(1);
      return { parameters, score: [...score, routeMethod === "ANY" ? 0 : 1] };
    }
    const value = actual[i];
    if (value === undefined) return undefined;
    const variable = /^\{(\w+)\}$/.exec(segment);
    if (variable) {
      parameters[variable[1] as string] = decodeSegments(value);
      score.push(2);
    } else if (segment === value) {
      score.push(3);
    } else {
      return undefined;
    }
  }
  if (actual.length !== wanted.length) return undefined;
  return { parameters, score: [...score, 4, routeMethod === "ANY" ? 0 : 1] };
}

function compareScores(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const difference = (a[i] ?? 0) - (b[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

function decodeSegments(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function identityValue(source: string, request: Request): string | undefined {
  const header = /^\$request\.header\.(.+)$/i.exec(source);
  if (header) return request.headers[(header[1] as string).toLowerCase()];
  const query = /^\$request\.querystring\.(.+)$/i.exec(source);
  if (query) return request.query[query[1] as string];
  return undefined;
}

function policyAllows(policy: unknown): boolean {
  if (!isRecord(policy) || !Array.isArray(policy.Statement)) return false;
  const statements = policy.Statement.filter(isRecord);
  if (statements.some((s) => s.Effect === "Deny")) return false;
  return statements.some((s) => s.Effect === "Allow");
}

/** Payload format 2.0: a result with `statusCode` is a response; anything else is a JSON 200. */
function toAnswer(payload: unknown): Answer {
  if (isRecord(payload) && typeof payload.statusCode === "number") {
    const headers: Record<string, string | string[]> = {};
    if (isRecord(payload.headers))
      for (const [name, value] of Object.entries(payload.headers))
        headers[name.toLowerCase()] = String(value);
    if (Array.isArray(payload.cookies)) headers["set-cookie"] = payload.cookies.map(String);
    const raw = typeof payload.body === "string" ? payload.body : "";
    const body = Buffer.from(raw, payload.isBase64Encoded === true ? "base64" : "utf8");
    return { status: payload.statusCode, headers, body };
  }
  const body = typeof payload === "string" ? payload : JSON.stringify(payload ?? null);
  return { status: 200, headers: { "content-type": "application/json" }, body: Buffer.from(body) };
}

function message(status: number, text: string): Answer {
  return {
    status,
    headers: { "content-type": "application/json" },
    body: Buffer.from(JSON.stringify({ message: text })),
  };
}

async function withTimeout(
  call: Promise<InvokeResult>,
  timeoutMs: number,
): Promise<InvokeResult | "timeout"> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  try {
    return await Promise.race([call, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** `24/Nov/2026:20:00:00 +0000`, the request time format of API Gateway's context. */
function clfTime(date: Date): string {
  const months = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(" ");
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${pad(date.getUTCDate())}/${months[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

/** The function ARN inside an integration or authorizer URI (`arn:aws:apigateway:…/functions/<arn>/invocations`). */
export function functionArnOf(uri: string): string {
  const nested = /\/functions\/(arn:[^/]+)\/invocations$/.exec(uri);
  return nested ? (nested[1] as string) : uri;
}
