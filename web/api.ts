/**
 * The dashboard's client of the REST API, typed from the route table in core/api.ts: each
 * call's parameters, query and body are the route's own zod schemas (checked here before
 * sending, in the API's own words) and each answer is parsed with the route's response schema.
 */
import type { z } from "zod";
import { Problem, ROUTES, type RouteName, type RouteSpec } from "../core/api.js";
import { PARSE_OPTIONS, type RequestIssue, requestIssue } from "../core/api-issues.js";

type Routes = typeof ROUTES;
type Schemas<S> = S extends Record<string, z.ZodType> ? { [K in keyof S]: z.input<S[K]> } : never;

export type ParamsOf<N extends RouteName> = Routes[N] extends { params: infer P }
  ? Schemas<P>
  : undefined;
export type QueryOf<N extends RouteName> = Routes[N] extends { query: infer Q extends z.ZodType }
  ? z.input<Q>
  : undefined;
export type BodyOf<N extends RouteName> = Routes[N] extends { body: infer B extends z.ZodType }
  ? z.input<B>
  : undefined;
/** The body of any of the route's successful answers. */
export type AnswerOf<N extends RouteName> = {
  [S in keyof Routes[N]["responses"]]: Routes[N]["responses"][S] extends z.ZodType
    ? z.output<Routes[N]["responses"][S]>
    : never;
}[keyof Routes[N]["responses"]];

export interface CallInput<N extends RouteName> {
  params?: ParamsOf<N>;
  query?: QueryOf<N>;
  body?: BodyOf<N>;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** The API answered with a problem document (RFC 9457); `field` names the part at fault. */
export class ApiProblem extends Error {
  override readonly name = "ApiProblem";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field: string | undefined,
  ) {
    super(message);
  }
}

/** Every issue the request's own schemas find, before anything is sent. */
export class InvalidRequest extends Error {
  override readonly name = "InvalidRequest";
  constructor(readonly issues: RequestIssue[]) {
    super(issues[0]?.detail ?? "the request is invalid");
  }
}

/** 401 or 403: no token, or not the API's. */
export class TokenRefused extends Error {
  override readonly name = "TokenRefused";
}

/** No answer at all: the API is down or the network is. */
export class Unreachable extends Error {
  override readonly name = "Unreachable";
}

/** The answer is not what this dashboard expects (an API newer or older than the page). */
export class UnexpectedAnswer extends Error {
  override readonly name = "UnexpectedAnswer";
}

export interface Answer<N extends RouteName> {
  status: number;
  /** Undefined on a 304: the caller's copy is current. */
  body: AnswerOf<N> | undefined;
  etag: string | undefined;
}

/**
 * The request's parts checked against the route's schemas; every issue, worded as the API does.
 * The parts are untyped here: what a form holds is checked before it is trusted.
 */
export function check(name: RouteName, input: { query?: unknown; body?: unknown }): RequestIssue[] {
  const spec: RouteSpec = ROUTES[name];
  const issues: RequestIssue[] = [];
  const parts: [z.ZodType | undefined, unknown][] = [
    [spec.query, input.query ?? {}],
    [spec.body, input.body ?? {}],
  ];
  for (const [schema, value] of parts) {
    if (!schema) continue;
    const parsed = schema.safeParse(value, PARSE_OPTIONS);
    if (!parsed.success) issues.push(...parsed.error.issues.map((issue) => requestIssue(issue)));
  }
  return issues;
}

/** The route's path with each `{name}` replaced by its encoded parameter. */
function pathOf(spec: RouteSpec, params: unknown): string {
  const values = new Map(Object.entries(params ?? {}));
  return spec.path.replace(/\{(\w+)\}/g, (_, name: string) =>
    encodeURIComponent(String(values.get(name) ?? "")),
  );
}

function queryOf(query: unknown): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {}))
    if (value !== undefined && value !== "") search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : "";
}

export class ApiClient {
  constructor(
    readonly token: string,
    readonly base = "",
  ) {}

  /** Calls a route; with `etag`, a 304 answers `body: undefined` (nothing changed). */
  async call<N extends RouteName>(
    name: N,
    input: CallInput<N> = {},
    etag?: string,
  ): Promise<Answer<N>> {
    const spec: RouteSpec = ROUTES[name];
    const issues = check(name, input);
    if (issues.length > 0) throw new InvalidRequest(issues);
    const url = `${this.base}${pathOf(spec, input.params)}${queryOf(input.query)}`;
    let response: Response;
    try {
      response = await fetch(url, {
        method: spec.method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(spec.body ? { "content-type": "application/json" } : {}),
          ...(etag ? { "if-none-match": etag } : {}),
          ...input.headers,
        },
        ...(spec.body ? { body: JSON.stringify(input.body ?? {}) } : {}),
        cache: "no-store",
        ...(input.signal ? { signal: input.signal } : {}),
      });
    } catch (error) {
      if (error instanceof DOMException && error.name === "AbortError") throw error;
      throw new Unreachable(
        `cannot reach the modeldrop API at ${new URL(url, location.href).origin}`,
      );
    }
    const answerTag = response.headers.get("etag") ?? undefined;
    if (response.status === 304) return { status: 304, body: undefined, etag: answerTag ?? etag };
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      throw new UnexpectedAnswer(`${spec.method} ${spec.path}: HTTP ${response.status}, not JSON`);
    }
    if (!response.ok) {
      const problem = Problem.safeParse(parsed);
      if (problem.success)
        throw new ApiProblem(
          response.status,
          problem.data.code,
          problem.data.detail,
          problem.data.field,
        );
      if (response.status === 401 || response.status === 403)
        throw new TokenRefused(
          response.status === 401
            ? "the API wants a token (HTTP 401)"
            : "the API refused this token (HTTP 403): it is not the API token",
        );
      if (response.status === 503 || response.status === 502 || response.status === 504)
        throw new Unreachable(`the modeldrop API did not answer in time (HTTP ${response.status})`);
      throw new UnexpectedAnswer(`${spec.method} ${spec.path}: HTTP ${response.status}`);
    }
    const schema = (spec.responses as Record<number, z.ZodType | null>)[response.status];
    const body = schema ? schema.safeParse(parsed) : undefined;
    if (!body?.success)
      throw new UnexpectedAnswer(
        `${spec.method} ${spec.path}: the answer is not what this dashboard expects (HTTP ${response.status})`,
      );
    return { status: response.status, body: body.data as AnswerOf<N>, etag: answerTag };
  }

  /** As `call`, for the answer's body alone. */
  async get<N extends RouteName>(name: N, input: CallInput<N> = {}): Promise<AnswerOf<N>> {
    const answer = await this.call(name, input);
    if (answer.body === undefined) throw new UnexpectedAnswer(`${name}: an empty answer`);
    return answer.body;
  }
}
