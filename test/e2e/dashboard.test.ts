// The web dashboard in headless Chromium, against the packaged stack on a local cloud, through
// the UI alone: sign in, upload a dataset, watch its steps to SUCCEEDED, approve the model,
// predict and read the rows; and the error states a user meets (a wrong token, a bad option at
// its field, a failed run's reason, the API unreachable). Every page is checked with axe-core
// and a screenshot of each lands in test/artifacts/dashboard-*.png.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { LocalCloud } from "../../local/cloud.js";
import { CHROMIUM, CHROMIUM_ARGS, chromiumMissing } from "../chromium.js";
import { churnCsv } from "../integration/datasets.js";
import { startPipelineCloud } from "../integration/pipeline-stack.js";

const ROOT = resolve(import.meta.dirname, "..", "..");
const ARTIFACTS = join(ROOT, "test", "artifacts");
const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

const SKIP = chromiumMissing();
if (SKIP) console.warn(`dashboard browser test skipped: ${SKIP}`);

let cloud: LocalCloud;
let token: string;
let cleanup: () => Promise<void>;
let browser: Browser;
let work: string;
let dashboard: string;

/** A fresh browser session (no token kept) with the page's console errors collected. */
async function session(): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(String(error)));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  return { context, page, errors };
}

async function signIn(page: Page, with_ = token): Promise<void> {
  await page.goto(dashboard);
  await page.getByLabel("API token").fill(with_);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** Serious and critical accessibility violations on the page as it is now. */
async function accessibilityProblems(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol, which the page's CSP does not govern.
  await page.evaluate(AXE);
  const results = await page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: {
          run: () => Promise<{
            violations: { id: string; impact: string; help: string; nodes: unknown[] }[];
          }>;
        };
      }
    ).axe;
    return (await axe.run()).violations;
  });
  return results
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help}, ${v.nodes.length} element(s)`);
}

async function shoot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `dashboard-${name}.png`), fullPage: true });
}

function dataset(name: string, text: string): string {
  const path = join(work, name);
  writeFileSync(path, text);
  return path;
}

describe.skipIf(SKIP)(`the dashboard${SKIP ? ` (skipped: ${SKIP})` : ""}`, () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "modeldrop-dashboard-"));
    mkdirSync(ARTIFACTS, { recursive: true });
    const started = await startPipelineCloud({}, inject("packagedStack"));
    ({ cloud, token, cleanup } = started);
    dashboard = `${cloud.apiEndpoint}/`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await cleanup?.();
    rmSync(work, { recursive: true, force: true });
  });

  it("refuses a wrong token at the sign-in, saying so", async () => {
    const { context, page } = await session();
    await signIn(page, "not-the-token");
    await expect
      .poll(() => page.getByRole("alert").textContent())
      .toContain("The API refused this token");
    expect(await accessibilityProblems(page)).toEqual([]);
    await shoot(page, "sign-in");
    await context.close();
  });

  it("serves the page with a strict Content-Security-Policy", async () => {
    const answer = await fetch(dashboard);
    const policy = answer.headers.get("content-security-policy") ?? "";
    expect(policy).toContain("script-src 'self'");
    expect(policy).not.toContain("unsafe-inline");
    expect(answer.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("trains from an upload, follows it to SUCCEEDED, approves the model and predicts, through the UI alone", async () => {
    const { context, page, errors } = await session();
    await signIn(page);
    await page.getByRole("heading", { name: "Runs" }).waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);
    await shoot(page, "runs");

    await page.getByRole("link", { name: "Start a run" }).click();
    await page.getByLabel("Dataset file").setInputFiles(dataset("churn.csv", churnCsv(240)));
    await page.getByLabel("Target").selectOption("churned");
    await page.getByLabel("Preset").selectOption("fast");
    await page.getByLabel("Manual approval").check();
    expect(await accessibilityProblems(page)).toEqual([]);
    await shoot(page, "start");
    await page.getByRole("button", { name: "Start training" }).click();

    await page.waitForURL(/#\/runs\/[^/]+$/, { timeout: 60_000 });
    await page.getByRole("heading", { name: "Steps" }).waitFor();
    await shoot(page, "run-running");
    await page.locator("h1 .status", { hasText: "SUCCEEDED" }).waitFor({ timeout: 240_000 });
    for (const step of ["preprocess", "evaluate", "transform"])
      await page.locator(".timeline .step-name", { hasText: step }).first().waitFor();
    await expect.poll(() => page.locator(".gate-passed").textContent()).toContain("passed");
    expect(await page.getByRole("row", { name: /roc_auc/ }).count()).toBeGreaterThan(0);
    await page.getByRole("link", { name: "Report (HTML)" }).waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);
    await shoot(page, "run");

    await page.getByRole("link", { name: /^churn v1/ }).click();
    await page.getByRole("heading", { name: /v1 Pending/ }).waitFor();
    await page.getByLabel("Reason (optional)").fill("checked in the dashboard");
    await page.getByRole("button", { name: "Approve v1" }).click();
    await page.getByRole("heading", { name: /v1 Approved/ }).waitFor();
    expect(await page.getByText("checked in the dashboard").count()).toBe(1);
    expect(await accessibilityProblems(page)).toEqual([]);
    await shoot(page, "model");

    await page.getByRole("link", { name: "Predict", exact: true }).click();
    await page.getByLabel("Model").selectOption("churn");
    const rows = churnCsv(30, 9)
      .split("\n")
      .map((line) => line.split(",").slice(0, 4).join(","))
      .join("\n");
    await page.getByLabel(/Rows to predict/).setInputFiles(dataset("customers.csv", rows));
    await page.getByRole("button", { name: "Run inference" }).click();
    const table = page.locator("table.predictions");
    await table.waitFor({ timeout: 180_000 });
    expect(await table.locator("tbody tr").count()).toBe(20);
    expect(await table.locator("thead").textContent()).toContain("prediction");
    await page.getByRole("link", { name: "Download customers.csv.out" }).waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);
    await shoot(page, "predictions");

    await page.getByRole("link", { name: "Code" }).click();
    await page.getByRole("heading", { name: "Code" }).waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);
    await shoot(page, "code");
    expect(errors).toEqual([]);
    await context.close();
  }, 600_000);

  it("shows a bad option at its field in the API's words, before and after sending", async () => {
    const { context, page } = await session();
    await signIn(page);
    await page.getByRole("link", { name: "Start a run" }).click();
    await page.getByLabel("Dataset file").setInputFiles(dataset("fields.csv", churnCsv(40)));
    await page.getByText("More options").click();
    await page.getByLabel("Max parallel jobs").fill("0");
    await page.getByRole("button", { name: "Start training" }).click();
    const field = page.locator(".field", { has: page.getByLabel("Max parallel jobs") });
    await expect
      .poll(() => field.locator(".field-error").textContent())
      .toMatch(/^options\.maxParallelJobs: /);
    expect(await page.getByLabel("Max parallel jobs").getAttribute("aria-invalid")).toBe("true");

    // Only the server knows that no candidate of the fast preset (lightgbm, linear) takes it.
    await page.getByLabel("Max parallel jobs").fill("");
    await page.getByLabel("Preset").selectOption("fast");
    await page.getByLabel("N estimators").fill("50");
    await page.getByRole("button", { name: "Start training" }).click();
    const trees = page.locator(".field", { has: page.getByLabel("N estimators") });
    await expect.poll(() => trees.locator(".field-error").textContent()).toContain("random_forest");

    // Pinning an algorithm leaves out the hyperparameters it does not take.
    await page.getByLabel("N estimators").fill("");
    await page.getByLabel("Algorithm").selectOption("linear");
    expect(await page.getByLabel("Num leaves").count()).toBe(0);
    expect(await page.getByLabel("Regularization").count()).toBe(1);
    await shoot(page, "bad-option");
    await context.close();
  });

  it("shows a failed run's reason and where its log is", async () => {
    const { context, page } = await session();
    await signIn(page);
    await page.getByRole("link", { name: "Start a run" }).click();
    // Three rows cannot be split into train, validation and test: preprocess refuses them.
    await page
      .getByLabel("Dataset file")
      .setInputFiles(dataset("tiny.csv", "a,b,label\n1,2,x\n3,4,y\n5,6,x\n"));
    await page.getByLabel("Target").selectOption("label");
    await page.getByRole("button", { name: "Start training" }).click();
    await page.waitForURL(/#\/runs\/[^/]+$/, { timeout: 60_000 });
    await page.locator("h1 .status", { hasText: "FAILED" }).waitFor({ timeout: 120_000 });
    const failure = page.locator("section.failure");
    expect(await failure.textContent()).toContain("preprocess");
    expect(await failure.textContent()).toContain("/aws/sagemaker/ProcessingJobs");
    await page.getByRole("button", { name: "Retry run" }).waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);
    await shoot(page, "run-failed");
    await context.close();
  });

  it("cancels a running run, and retries it as a new run linked to it", async () => {
    const { context, page } = await session();
    await signIn(page);
    await page.getByRole("link", { name: "Start a run" }).click();
    await page.getByLabel("Dataset file").setInputFiles(dataset("cancel-me.csv", churnCsv(200)));
    await page.getByLabel("Target").selectOption("churned");
    await page.getByRole("button", { name: "Start training" }).click();
    await page.waitForURL(/#\/runs\/[^/]+$/, { timeout: 60_000 });
    const first = page.url();
    await page.getByRole("button", { name: "Cancel run" }).click();
    await page.locator("h1 .status", { hasText: "STOPPED" }).waitFor({ timeout: 120_000 });

    await page.getByRole("button", { name: "Retry run" }).click();
    await page.waitForURL((url) => url.href !== first && /#\/runs\/[^/]+$/.test(url.hash));
    await page.getByRole("link", { name: first.split("/").pop() ?? "" }).waitFor();
    await page.getByRole("button", { name: "Cancel run" }).click();
    await page.locator("h1 .status", { hasText: "STOPPED" }).waitFor({ timeout: 120_000 });
    await context.close();
  });

  it("says when the API cannot be reached, and keeps trying", async () => {
    const { context, page } = await session();
    await signIn(page);
    await page.getByRole("heading", { name: "Runs" }).waitFor();
    await context.route("**/runs?**", (route) => route.abort("connectionrefused"));
    await expect
      .poll(() => page.locator(".error-note").textContent(), { timeout: 15_000 })
      .toContain("cannot reach the modeldrop API");
    await shoot(page, "unreachable");
    await context.unroute("**/runs?**");
    await expect.poll(() => page.locator(".error-note").count(), { timeout: 40_000 }).toBe(0);
    await context.close();
  });

  it("can be used by keyboard alone: sign in, then reach a section", async () => {
    const { context, page } = await session();
    await page.goto(dashboard);
    await page.getByLabel("API token").waitFor();
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("token");
    await page.keyboard.type(token);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Runs" }).waitFor();
    // Skip button, brand-less nav: Runs, Start a run, Models.
    for (let i = 0; i < 4; i++) await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Models");
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Models" }).waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);
    await context.close();
  });
});
