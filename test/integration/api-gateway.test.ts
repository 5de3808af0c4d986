import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalCloud } from "../../local/cloud.js";
import { packageFixtureStack } from "./fixture-stack.js";
import { startTestCloud } from "./helpers.js";

let cloud: LocalCloud;
let cleanup: () => Promise<void>;
const auth = { authorization: "Bearer s3cret" };

beforeAll(async () => {
  const stack = packageFixtureStack();
  const eventsFile = join(mkdtempSync(join(tmpdir(), "events-")), "events.jsonl");
  ({ cloud, cleanup } = await startTestCloud({
    stack: { dir: stack.dir, stackName: "fixture", parameters: { EventsFile: eventsFile } },
  }));
});

afterAll(async () => {
  await cleanup();
});

async function call(path: string, init: RequestInit = {}) {
  const response = await fetch(`${cloud.apiEndpoint}${path}`, init);
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) };
}

describe("the HTTP API built from the stack's routes", () => {
  it("gives the template's ApiEndpoint attribute the local URL", () => {
    expect(cloud.stack?.outputs.HttpApiUrl).toBe(cloud.apiEndpoint);
    expect(cloud.api.routeKeys).toContain("GET /items/{id}");
  });

  it("answers an open route without the authorizer, inferring a JSON 200 from a plain result", async () => {
    const health = await call("/health");
    expect(health.status).toBe(200);
    expect(health.headers.get("content-type")).toBe("application/json");
    expect(health.json()).toEqual({ ok: true });
    expect(health.headers.get("apigw-requestid")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("refuses a protected route with no token (401) and with a wrong one (403)", async () => {
    const missing = await call("/items/1");
    const wrong = await call("/items/1", { headers: { authorization: "Bearer nope" } });

    expect([missing.status, missing.json()]).toEqual([401, { message: "Unauthorized" }]);
    expect([wrong.status, wrong.json()]).toEqual([403, { message: "Forbidden" }]);
  });

  it("sends a v2 event with path parameters, joined query values, cookies and the authorizer context", async () => {
    const response = await call("/items/a%20b?tag=x&tag=y&q=1", {
      headers: { ...auth, cookie: "c1=v1; c2=v2" },
    });

    expect(response.status).toBe(200);
    expect(response.headers.get("x-route")).toBe("GET /items/{id}");
    expect(response.headers.get("set-cookie")).toBe("seen=1; Path=/");
    expect(response.json()).toMatchObject({
      routeKey: "GET /items/{id}",
      rawPath: "/items/a%20b",
      pathParameters: { id: "a b" },
      query: { tag: "x,y", q: "1" },
      cookies: ["c1=v1", "c2=v2"],
      user: "tester",
    });
  });

  it("prefers a literal route to a variable one, and matches greedy paths with ANY", async () => {
    const latest = await call("/items/latest", { headers: auth });
    const file = await call("/files/a/b/c.csv", { method: "DELETE", headers: auth });

    expect(latest.json().routeKey).toBe("GET /items/latest");
    expect(file.json()).toMatchObject({
      routeKey: "ANY /files/{path+}",
      pathParameters: { path: "a/b/c.csv" },
    });
  });

  it("passes text bodies as they are and binary bodies base64-encoded", async () => {
    const json = await call("/items", {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ name: "x" }),
    });
    const binary = await call("/items", {
      method: "POST",
      headers: { ...auth, "content-type": "application/octet-stream" },
      body: new Uint8Array([0, 255, 1]),
    });

    expect(json.status).toBe(201);
    expect(json.json()).toMatchObject({ body: '{"name":"x"}', isBase64Encoded: false });
    expect(binary.json()).toMatchObject({ body: "AP8B", isBase64Encoded: true });
  });

  it("answers API Gateway's errors: unknown route 404, function error 500, oversized body 413", async () => {
    const unknown = await call("/nowhere", { headers: auth });
    const failed = await call("/items/boom", { headers: auth });
    const huge = await call("/items", {
      method: "POST",
      headers: { ...auth, "content-type": "text/plain" },
      body: "x".repeat(10 * 1024 * 1024 + 1),
    });

    expect([unknown.status, unknown.json()]).toEqual([404, { message: "Not Found" }]);
    expect([failed.status, failed.json()]).toEqual([500, { message: "Internal Server Error" }]);
    expect([huge.status, huge.json()]).toEqual([413, { message: "Request Entity Too Large" }]);
  });

  it("caches the authorizer's answer for its TTL, keyed by the identity source", async () => {
    const { payload } = await cloud.functions.invoke("fixture-authorize", {
      headers: { authorization: "Bearer s3cret" },
    });
    const before = (payload as { context: { calls: number } }).context.calls;
    await call("/items/2", { headers: auth });
    await call("/items/3", { headers: auth });
    const { payload: after } = await cloud.functions.invoke("fixture-authorize", {
      headers: { authorization: "Bearer s3cret" },
    });

    // Both requests were answered from the cache (a token seen earlier in this file): only the
    // direct invocation above moved the counter.
    expect((after as { context: { calls: number } }).context.calls).toBe(before + 1);
  });
});
