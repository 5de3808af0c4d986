// The dashboard's serving rules and the pieces of its client that need no browser: which paths
// are files, the headers that lock the page down, the handler over a built folder, the request
// check in the API's own words, and the options form's values back as options.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { dashboardFile, dashboardHeaders } from "../../core/dashboard.js";
import { makeHandler } from "../../handlers/dashboard.js";
import { check } from "../../web/api.js";
import { optionsFrom } from "../../web/options.js";
import { httpEvent, invoke } from "./events.js";

const STORAGE = "http://127.0.0.1:4566";

function builtDashboard(): string {
  const dist = mkdtempSync(join(tmpdir(), "modeldrop-dist-"));
  mkdirSync(join(dist, "assets"));
  writeFileSync(join(dist, "index.html"), "<!doctype html><title>modeldrop</title>");
  writeFileSync(join(dist, "assets", "app-ABC123.js"), "console.log(1)");
  return dist;
}

describe("the dashboard's files", () => {
  it("serves the page at / and built assets under /assets/, nothing else", () => {
    expect(dashboardFile("/")?.file).toBe("index.html");
    expect(dashboardFile("/assets/app-ABC123.js")).toMatchObject({
      file: "assets/app-ABC123.js",
      type: "text/javascript; charset=utf-8",
    });
    for (const path of [
      "/assets/../index.html",
      "/assets/%2e%2e%2fsecret",
      "/assets/app.exe",
      "/index.html",
      "/assets/a/b.js",
      "/assets/.env",
    ])
      expect(dashboardFile(path), path).toBeUndefined();
  });

  it("caches hashed assets for good and checks the page every time", () => {
    expect(dashboardFile("/")?.cacheControl).toBe("no-cache");
    expect(dashboardFile("/assets/app-ABC123.css")?.cacheControl).toContain("immutable");
  });

  it("allows scripts from its own origin only and network access to the API and the bucket", () => {
    const csp = dashboardHeaders(STORAGE)["content-security-policy"];
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).not.toContain("unsafe-eval");
    expect(csp).toContain(`connect-src 'self' ${STORAGE}`);
    expect(csp).toContain("frame-ancestors 'none'");
  });
});

describe("the dashboard handler", () => {
  it("answers the page with its type and the locked-down headers", async () => {
    const handler = makeHandler({ dist: builtDashboard, storageOrigin: async () => STORAGE });
    const answer = await invoke(handler, httpEvent({ method: "GET", path: "/" }));
    expect(answer.statusCode).toBe(200);
    expect(answer.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(answer.headers["content-security-policy"]).toContain(STORAGE);
    expect(answer.headers["x-content-type-options"]).toBe("nosniff");
    expect(answer.body).toContain("<title>modeldrop</title>");
  });

  it("gzips for a browser that accepts it", async () => {
    const handler = makeHandler({ dist: builtDashboard, storageOrigin: async () => STORAGE });
    const answer = await invoke(
      handler,
      httpEvent({ method: "GET", path: "/", headers: { "accept-encoding": "gzip, deflate, br" } }),
    );
    expect(answer.headers["content-encoding"]).toBe("gzip");
    expect(answer.isBase64Encoded).toBe(true);
    expect(gunzipSync(Buffer.from(answer.body, "base64")).toString()).toContain("<title>");
  });

  it("answers 404 for an asset that was not built", async () => {
    const handler = makeHandler({ dist: builtDashboard, storageOrigin: async () => STORAGE });
    const answer = await invoke(
      handler,
      httpEvent({ method: "GET", path: "/assets/app-MISSING.js" }),
    );
    expect(answer.statusCode).toBe(404);
  });

  it("says how to build the dashboard when a deployment has none", async () => {
    const empty = mkdtempSync(join(tmpdir(), "modeldrop-dist-"));
    const handler = makeHandler({ dist: () => empty, storageOrigin: async () => STORAGE });
    const answer = await invoke(handler, httpEvent({ method: "GET", path: "/" }));
    expect(answer.statusCode).toBe(503);
    expect(answer.body).toContain("npm run build:web");
  });
});

describe("the dashboard's request check", () => {
  it("words a bad option as the API does, at its field", () => {
    const issues = check("createUpload", {
      body: { fileName: "churn.csv", options: { task: "guess", maxParallelJobs: 0 } },
    });
    expect(issues.map((issue) => issue.field)).toEqual(["options.task", "options.maxParallelJobs"]);
    expect(issues[0]?.detail).toMatch(/^options\.task: /);
  });

  it("names an unknown option as not a known field", () => {
    const [issue] = check("startRun", { body: { input: "inbox/a.csv", options: { tagret: "y" } } });
    expect(issue).toEqual({
      field: "options.tagret",
      detail: "options.tagret is not a known field",
    });
  });

  it("passes a good request", () => {
    expect(check("startRun", { body: { input: "inbox/a.csv", options: { target: "y" } } })).toEqual(
      [],
    );
  });
});

describe("the options form's values", () => {
  it("become the options object with the schema's types, empty fields left out", () => {
    expect(
      optionsFrom({
        target: "churned",
        task: "",
        threshold: "0.8",
        manualApproval: "true",
        ignoreColumns: "id, notes ,",
        "hyperparameters.max_depth": "4",
        "hyperparameters.eta": "",
        "code.name": "",
      }),
    ).toEqual({
      target: "churned",
      threshold: 0.8,
      manualApproval: true,
      ignoreColumns: ["id", "notes"],
      hyperparameters: { max_depth: 4 },
    });
  });

  it("is no options at all when nothing was filled in", () => {
    expect(optionsFrom({ target: "", manualApproval: "" })).toBeUndefined();
  });
});
