/**
 * The CLI's view of the REST API: where it is and which token to send (flags, then
 * MODELDROP_ENDPOINT / MODELDROP_TOKEN, then the local cloud's defaults), and typed calls
 * whose answers are checked against the API's own response schemas.
 */
import { existsSync, openAsBlob, readFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { z } from "zod";
import { Problem, type RouteSpec } from "../core/api.js";
import { TOKEN_FILE } from "./local-stack.js";

/** The local cloud's HTTP API port (`modeldrop up --api-port`). */
export const LOCAL_API = "http://127.0.0.1:4567";

/**
 * What a failure is, beyond its message: a kebab-case code like the API's own problem codes
 * (the API's code itself when the API answered with a problem), and the HTTP status and the
 * field at fault when there are.
 */
export interface ErrorDetail {
  code?: string;
  status?: number;
  field?: string;
}

/** What a failing command prints on stderr under --json: one line of this. */
export const ErrorOutput = z.object({
  error: z.object({
    code: z.string().describe("kebab-case; the API's own problem code when the API answered one"),
    message: z.string(),
    exitCode: z.int().describe("the command's exit status: 1, 2 or 3"),
    status: z.int().optional().describe("the HTTP status, when there was an answer"),
    field: z.string().optional().describe("the flag, option or request field at fault"),
  }),
});
export type ErrorOutput = z.infer<typeof ErrorOutput>;

/** A code for each exit code, for failures that name none. */
const DEFAULT_CODES: Record<number, string> = { 1: "failed", 2: "usage", 3: "api-unusable" };

/** A failure the CLI reports as one line (of JSON under --json) and a non-zero exit. */
export class CliError extends Error {
  override readonly name = "CliError";
  readonly code: string;
  readonly status: number | undefined;
  readonly field: string | undefined;
  constructor(
    message: string,
    readonly exitCode = 1,
    detail: ErrorDetail = {},
  ) {
    super(message);
    this.code = detail.code ?? DEFAULT_CODES[exitCode] ?? "failed";
    this.status = detail.status;
    this.field = detail.field;
  }
}

export interface Connection {
  endpoint: string;
  token: string;
}

export function connection(flags: {
  endpoint?: string | undefined;
  token?: string | undefined;
  stateDir?: string | undefined;
}): Connection {
  const endpoint = (flags.endpoint ?? process.env.MODELDROP_ENDPOINT ?? LOCAL_API).replace(
    /\/+$/,
    "",
  );
  let token = flags.token ?? process.env.MODELDROP_TOKEN;
  if (!token) {
    const file = join(
      resolve(flags.stateDir ?? process.env.MODELDROP_STATE_DIR ?? ".modeldrop"),
      TOKEN_FILE,
    );
    if (!existsSync(file))
      throw new CliError(
        `no API token: pass --token or set MODELDROP_TOKEN (a local cloud keeps its token in ${file}; start one with \`npx modeldrop up\`)`,
        2,
        { code: "no-token" },
      );
    token = readFileSync(file, "utf8").trim();
  }
  return { endpoint, token };
}

/** The methods the API's routes use (`RouteSpec` in core/api.ts). */
type Method = RouteSpec["method"];

export class Api {
  constructor(readonly connection: Connection) {}

  /**
   * One request, its answer checked against `schema`. `body` is sent as JSON, except a Blob,
   * which is sent as it is with its type as the Content-Type (a file to invoke a model with).
   */
  async call<T extends z.ZodType>(
    schema: T,
    method: Method,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<z.output<T>> {
    return (await this.callWithStatus(schema, method, path, body, headers)).body;
  }

  /** As `call`, with the answer's status (200 or 201 says whether something was made). */
  async callWithStatus<T extends z.ZodType>(
    schema: T,
    method: Method,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: z.output<T> }> {
    const raw = body instanceof Blob;
    let response: Response;
    try {
      response = await fetch(`${this.connection.endpoint}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.connection.token}`,
          ...(body === undefined ? {} : { "content-type": raw ? body.type : "application/json" }),
          ...headers,
        },
        ...(body === undefined ? {} : { body: raw ? body : JSON.stringify(body) }),
        signal: AbortSignal.timeout(60_000),
      });
    } catch (error) {
      const reason =
        error instanceof Error
          ? error.cause instanceof Error
            ? error.cause.message
            : error.message
          : String(error);
      throw new CliError(
        `cannot reach the modeldrop API at ${this.connection.endpoint} (${reason}); is \`npx modeldrop up\` running?`,
        3,
        { code: "unreachable" },
      );
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      throw new CliError(
        `${method} ${path}: HTTP ${response.status}, not JSON: ${text.slice(0, 200)}`,
        3,
        { code: "unexpected-answer", status: response.status },
      );
    }
    if (!response.ok) {
      const problem = Problem.safeParse(parsed);
      if (problem.success)
        throw new CliError(`${problem.data.detail} (${problem.data.code})`, 1, {
          code: problem.data.code,
          status: response.status,
          ...(problem.data.field === undefined ? {} : { field: problem.data.field }),
        });
      if (response.status === 401 || response.status === 403)
        throw new CliError(
          `the API refused the token (HTTP ${response.status}); check --token or MODELDROP_TOKEN`,
          3,
          { code: "token-refused", status: response.status },
        );
      throw new CliError(`${method} ${path}: HTTP ${response.status} ${text.slice(0, 200)}`, 3, {
        code: "unexpected-answer",
        status: response.status,
      });
    }
    const checked = schema.safeParse(parsed);
    if (!checked.success)
      throw new CliError(
        `${method} ${path}: the answer is not what this CLI expects: ${checked.error.issues[0]?.message}`,
        3,
        { code: "unexpected-answer", status: response.status },
      );
    return { status: response.status, body: checked.data };
  }
}

/**
 * Sends a file with a presigned POST (the fields first, the file last, as S3 requires). The
 * file is read lazily by fetch, not loaded whole. Returns the stored version id.
 */
export async function postFile(
  url: string,
  fields: Record<string, string>,
  path: string,
): Promise<string | undefined> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append("file", await openAsBlob(path), basename(path));
  const response = await fetch(url, { method: "POST", body: form });
  if (!response.ok) {
    const text = await response.text();
    const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1];
    const message = /<Message>([^<]+)<\/Message>/.exec(text)?.[1];
    throw new CliError(
      `the upload was refused: ${code ?? response.status}${message ? `: ${message}` : ""}`,
      1,
      { code: "upload-refused", status: response.status },
    );
  }
  return response.headers.get("x-amz-version-id") ?? undefined;
}
