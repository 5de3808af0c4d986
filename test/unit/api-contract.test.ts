import { describe, expect, it } from "vitest";
import { ListRunsQuery, Problem, ROUTES } from "../../core/api.js";
import { RunNotFound } from "../../core/errors.js";
import { openApiDocument } from "../../core/openapi.js";
import { apiRoute } from "../../handlers/api/http.js";
import { httpEvent, invoke } from "./events.js";

type Responses = Record<string, { content?: Record<string, unknown> }>;

function responses(path: string, method: string): Responses {
  const paths = openApiDocument().paths as Record<string, Record<string, { responses: Responses }>>;
  const operation = paths[path]?.[method];
  if (!operation) throw new Error(`no ${method} ${path} in the document`);
  return operation.responses;
}

/** POST /runs parsing its request and doing nothing more. */
const startRun = apiRoute(ROUTES.startRun, async () => ({ status: 202, body: {} }));

async function problemFor(body: unknown) {
  const answer = await invoke(
    startRun,
    httpEvent({ method: "POST", path: "/runs", body: JSON.stringify(body) }),
  );
  return Problem.parse(JSON.parse(answer.body));
}

describe("the OpenAPI document", () => {
  it("declares a 400 on routes without parameters, which still refuse unknown query fields", () => {
    expect(Object.keys(responses("/health", "get"))).toContain("400");
    expect(Object.keys(responses("/openapi.json", "get"))).toContain("400");
  });

  it("declares the gateway's own 404 body beside the problem document on routes with path parameters", () => {
    const notFound = responses("/runs/{id}/cancel", "post")["404"];

    expect(Object.keys(notFound?.content ?? {})).toEqual([
      "application/problem+json",
      "application/json",
    ]);
  });

  it("declares the gateway's bodyless 431 for an oversized request head on every route", () => {
    expect(responses("/runs", "get")["431"]).toEqual({ description: expect.any(String) });
    expect(responses("/health", "get")["431"]).toBeDefined();
  });

  it("declares the Location header on every 202", () => {
    for (const [path, method] of [
      ["/runs", "post"],
      ["/predictions", "post"],
      ["/runs/{id}/retry", "post"],
      ["/runs/{id}/cancel", "post"],
    ] as const) {
      const accepted = responses(path, method)["202"] as { headers?: Record<string, unknown> };
      expect(Object.keys(accepted.headers ?? {}), `${method} ${path}`).toEqual(["Location"]);
    }
  });

  it("gives an example of each request body that starts work", () => {
    const paths = openApiDocument().paths as Record<string, Record<string, unknown>>;
    for (const path of ["/runs", "/uploads", "/predictions"]) {
      const body = JSON.stringify(paths[path]?.post);
      expect(body, path).toContain('"examples"');
    }
  });
});

describe("cursors", () => {
  it("accept base64url only, so a cursor always fits in the URL as it is", () => {
    expect(ListRunsQuery.safeParse({ cursor: "eyJzIjoicHJlcHJvY2VzcyJ9" }).success).toBe(true);
    expect(ListRunsQuery.safeParse({ cursor: "é".repeat(10) }).success).toBe(false);
    expect(ListRunsQuery.safeParse({ cursor: "a".repeat(2049) }).success).toBe(false);
  });
});

describe("a 400 problem document", () => {
  it("says a missing field is required", async () => {
    const problem = await problemFor({});

    expect(problem).toMatchObject({ status: 400, field: "input", detail: "input: is required" });
  });

  it("says a field of the wrong type is of the wrong type, not that it is missing", async () => {
    const problem = await problemFor({ input: 5 });

    expect(problem.field).toBe("input");
    expect(problem.detail).toContain("expected string");
    expect(problem.detail).not.toContain("required");
  });
});

describe("a 202 answer", () => {
  it("carries a Location header naming where to follow the work it started", async () => {
    const accepted = apiRoute(ROUTES.startRun, async () => ({
      status: 202,
      body: { id: "01JD", status: "QUEUED", url: "/runs/01JD" },
    }));

    const answer = await invoke(
      accepted,
      httpEvent({ method: "POST", path: "/runs", body: JSON.stringify({ input: "inbox/a.csv" }) }),
    );

    expect(answer.statusCode).toBe(202);
    expect(answer.headers.location).toBe("/runs/01JD");
  });
});

describe("an event that is not an API Gateway HTTP API request", () => {
  it("is answered 400 with a problem document, not an error", async () => {
    const answer = await invoke(startRun, { body: "{}" });

    expect(answer.statusCode).toBe(400);
    expect(Problem.parse(JSON.parse(answer.body)).detail).toBe("the request could not be read");
  });
});

describe("a GET's answer", () => {
  const run = { id: "01JD", status: "RUNNING" };
  /** GET /runs/{id} answering the same body every time. */
  const getRun = apiRoute(ROUTES.getRun, async () => ({ status: 200, body: run }));
  const get = (headers: Record<string, string> = {}) =>
    invoke(getRun, httpEvent({ path: "/runs/01JD", pathParameters: { id: "01JD" }, headers }));

  it("carries a strong ETag of its body, the same for the same body", async () => {
    const first = await get();
    const second = await get();

    expect(first.statusCode).toBe(200);
    expect(first.headers.etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    expect(second.headers.etag).toBe(first.headers.etag);
  });

  it("is 304 with no body, the same ETag and cache-control, when If-None-Match names its ETag", async () => {
    const { headers } = await get();

    const again = await get({ "if-none-match": headers.etag ?? "" });

    expect(again).toEqual({
      statusCode: 304,
      headers: { etag: headers.etag, "cache-control": headers["cache-control"] },
      body: "",
    });
  });

  it("is 304 when its ETag is one of a list, weak or strong, or the list is *", async () => {
    const etag = (await get()).headers.etag ?? "";

    const listed = await get({ "if-none-match": `"other", ${etag}` });
    const weak = await get({ "if-none-match": `W/${etag}` });
    const any = await get({ "if-none-match": "*" });

    expect([listed.statusCode, weak.statusCode, any.statusCode]).toEqual([304, 304, 304]);
  });

  it("is the whole 200 when If-None-Match names another or a malformed tag", async () => {
    const etag = (await get()).headers.etag ?? "";

    const other = await get({ "if-none-match": '"stale", W/"older"' });
    const unquoted = await get({ "if-none-match": etag.slice(1, -1) });

    expect([other.statusCode, unquoted.statusCode]).toEqual([200, 200]);
    expect(JSON.parse(other.body)).toEqual(run);
  });

  it("has an ETag only on a GET's 200, never on an error or a POST", async () => {
    const missing = apiRoute(ROUTES.getRun, async () => {
      throw new RunNotFound("run 01JD does not exist");
    });
    const accepted = apiRoute(ROUTES.startRun, async () => ({
      status: 202,
      body: { id: "01JD", status: "QUEUED", url: "/runs/01JD" },
    }));

    const notFound = await invoke(
      missing,
      httpEvent({
        path: "/runs/01JD",
        pathParameters: { id: "01JD" },
        headers: { "if-none-match": "*" },
      }),
    );
    const posted = await invoke(
      accepted,
      httpEvent({ method: "POST", path: "/runs", body: JSON.stringify({ input: "inbox/a.csv" }) }),
    );

    expect(notFound.statusCode).toBe(404);
    expect(notFound.headers.etag).toBeUndefined();
    expect(posted.headers.etag).toBeUndefined();
  });
});

describe("the OpenAPI document's GET routes", () => {
  it("declare If-None-Match, the 200's ETag and a bodyless 304", () => {
    const paths = openApiDocument().paths as Record<
      string,
      Record<string, { parameters: { name: string; in: string }[]; responses: Responses }>
    >;
    const getRun = paths["/runs/{id}"]?.get;
    const ok = getRun?.responses["200"] as { headers?: Record<string, unknown> };
    const notModified = getRun?.responses["304"] as { headers?: Record<string, unknown> };

    expect(getRun?.parameters).toContainEqual(
      expect.objectContaining({ name: "If-None-Match", in: "header" }),
    );
    expect(Object.keys(ok.headers ?? {})).toEqual(["ETag"]);
    expect(notModified).not.toHaveProperty("content");
    expect(Object.keys(notModified.headers ?? {})).toEqual(["ETag"]);
    expect(paths["/runs"]?.post?.responses).not.toHaveProperty("304");
  });
});
