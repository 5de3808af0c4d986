import { describe, expect, it } from "vitest";
import { logger } from "../../handlers/lambda.js";
import { makeHandler } from "../../handlers/slack-notifier.js";
import { invoke, snsEvent as notices } from "./events.js";
import { aRun, captureOutput, FakeRuns, FakeSecrets } from "./fakes.js";

const PARAMETER = "/modeldrop/slack-webhook";
const WEBHOOK = "https://hooks.slack.com/services/T0001/B0002/s3cr3tT0k3nXYZ";
const SECRET_PART = "s3cr3tT0k3nXYZ";

const RUN_ID = "churn-data-3f2a9c1b0d4e";

const snsEvent = (...subjects: string[]) =>
  notices(
    subjects.map((subject, i) => ({
      messageId: `message-${i + 1}`,
      subject,
      message: `Run churn-3f2a9c1b0d4e: SUCCEEDED\nReport: s3://b/report.html\n`,
      attributes: { runId: RUN_ID },
    })),
  );

type Answer = Response | Error;

/** Slack's side: answers each post in turn with the next scripted response (or throws it). */
function slack(...answers: Answer[]) {
  const posts: { url: string; body: unknown }[] = [];
  const waits: number[] = [];
  const runs = new FakeRuns([aRun({ id: RUN_ID, status: "SUCCEEDED" })]);
  const deps = (parameters: Record<string, string> = { [PARAMETER]: WEBHOOK }) => ({
    ports: {
      secrets: new FakeSecrets(parameters),
      runs,
      log: logger,
      now: () => new Date(),
    },
    parameterName: () => PARAMETER,
    transport: {
      post: async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
        posts.push({ url: String(input), body: JSON.parse(String(init?.body)) });
        const answer = answers.shift() ?? new Response("ok");
        if (answer instanceof Error) throw answer;
        return answer;
      },
      sleep: async (ms: number) => {
        waits.push(ms);
      },
    },
  });
  const attempts = async () => (await runs.get(RUN_ID))?.noticeDeliveries ?? [];
  return { deps, posts, waits, attempts };
}

const tooManyRequests = (retryAfter: string) =>
  new Response("rate limited", { status: 429, headers: { "retry-after": retryAfter } });

describe("the Slack notifier", () => {
  it("posts the notice to the webhook with its subject as the headline", async () => {
    const { deps, posts } = slack(new Response("ok"));

    const result = await invoke(makeHandler(deps()), snsEvent("modeldrop: churn.csv model ready"));

    expect(result).toEqual({ delivered: 1 });
    expect(posts).toEqual([
      {
        url: WEBHOOK,
        body: expect.objectContaining({
          text: "modeldrop: churn.csv model ready",
          blocks: expect.arrayContaining([
            {
              type: "section",
              text: { type: "mrkdwn", text: "*Run churn-3f2a9c1b0d4e: SUCCEEDED*" },
            },
          ]),
        }),
      },
    ]);
  });

  it("waits as long as Slack's Retry-After says after a 429, then delivers", async () => {
    const { deps, posts, waits } = slack(tooManyRequests("3"), new Response("ok"));

    const result = await invoke(makeHandler(deps()), snsEvent("modeldrop: churn.csv model ready"));

    expect(waits).toEqual([3_000]);
    expect(posts).toHaveLength(2);
    expect(result).toEqual({ delivered: 1 });
  });

  it("waits at most 10 s however long Retry-After asks for", async () => {
    const { deps, waits } = slack(tooManyRequests("120"), new Response("ok"));

    await invoke(makeHandler(deps()), snsEvent("modeldrop: churn.csv model ready"));

    expect(waits).toEqual([10_000]);
  });

  it("gives up after three rate-limited attempts without failing", async () => {
    const { deps, posts } = slack(tooManyRequests("1"), tooManyRequests("1"), tooManyRequests("1"));

    const result = await invoke(makeHandler(deps()), snsEvent("modeldrop: churn.csv model ready"));

    expect(posts).toHaveLength(3);
    expect(result).toEqual({ delivered: 0 });
  });

  it("resolves without throwing when Slack cannot be reached", async () => {
    const refused = () => new TypeError("fetch failed", { cause: { code: "ECONNREFUSED" } });
    const { deps } = slack(refused(), refused(), refused());

    const result = await captureOutput(() =>
      invoke(makeHandler(deps()), snsEvent("modeldrop: churn.csv model ready")),
    );

    expect(result.result).toEqual({ delivered: 0 });
    expect(result.output).toContain("Slack could not be reached");
    expect(result.output).toContain("ECONNREFUSED");
  });

  it("still delivers the other notices of the batch when one fails", async () => {
    const { deps } = slack(new Response("no", { status: 404 }), new Response("ok"));

    const result = await invoke(makeHandler(deps()), snsEvent("first", "second"));

    expect(result).toEqual({ delivered: 1 });
  });

  it("retries a 5xx and a network error with backoff, recording each attempt on the run", async () => {
    const { deps, posts, waits, attempts } = slack(
      new Response("upstream", { status: 503 }),
      new TypeError("fetch failed", { cause: { code: "ECONNRESET" } }),
      new Response("ok"),
    );

    const result = await invoke(makeHandler(deps()), snsEvent("modeldrop: churn.csv model ready"));

    expect(result).toEqual({ delivered: 1 });
    expect(posts).toHaveLength(3);
    expect(waits).toEqual([1_000, 2_000]);
    expect(await attempts()).toEqual([
      {
        channel: "slack",
        attempt: 1,
        at: expect.any(String),
        outcome: "retrying",
        detail: "HTTP 503; retrying in 1 s",
        messageId: "message-1",
      },
      {
        channel: "slack",
        attempt: 2,
        at: expect.any(String),
        outcome: "retrying",
        detail: "could not reach Slack: fetch failed (ECONNRESET); retrying in 2 s",
        messageId: "message-1",
      },
      {
        channel: "slack",
        attempt: 3,
        at: expect.any(String),
        outcome: "delivered",
        detail: "HTTP 200",
        messageId: "message-1",
      },
    ]);
  });

  it("records the final failure after three attempts, and never the webhook URL", async () => {
    const down = () => new Response("down", { status: 500 });
    const { deps, attempts } = slack(down(), down(), down());

    const result = await invoke(makeHandler(deps()), snsEvent("modeldrop: churn.csv model ready"));

    expect(result).toEqual({ delivered: 0 });
    const recorded = await attempts();
    expect(recorded.map((a) => [a.attempt, a.outcome])).toEqual([
      [1, "retrying"],
      [2, "retrying"],
      [3, "failed"],
    ]);
    expect(recorded.at(-1)?.detail).toBe("HTTP 500");
    expect(JSON.stringify(recorded)).not.toContain(SECRET_PART);
  });

  it("does not retry a 4xx other than 429", async () => {
    const { deps, posts, attempts } = slack(new Response("invalid_token", { status: 403 }));

    await invoke(makeHandler(deps()), snsEvent("modeldrop: churn.csv model ready"));

    expect(posts).toHaveLength(1);
    expect((await attempts()).map((a) => [a.attempt, a.outcome, a.detail])).toEqual([
      [1, "failed", "HTTP 403"],
    ]);
  });

  it("posts a message that names no run (the alarm's) without recording it", async () => {
    const { deps, posts, attempts } = slack(new Response("ok"));
    const alarm = notices([{ subject: "ALARM: undelivered", message: "{}" }]);

    const result = await invoke(makeHandler(deps()), alarm);

    expect(result).toEqual({ delivered: 1 });
    expect(posts).toHaveLength(1);
    expect(await attempts()).toEqual([]);
  });

  it("still delivers when the attempt cannot be recorded", async () => {
    const { deps } = slack(new Response("ok"));
    const broken = new FakeRuns();
    broken.recordNoticeDelivery = async () => {
      throw new Error("ProvisionedThroughputExceededException");
    };
    const handler = makeHandler({ ...deps(), ports: { ...deps().ports, runs: broken } });

    const { result, output } = await captureOutput(() =>
      invoke(handler, snsEvent("modeldrop: churn.csv model ready")),
    );

    expect(result).toEqual({ delivered: 1 });
    expect(output).toContain("could not record the Slack attempt");
  });

  it.each([
    ["no parameter exists", {}],
    ["the parameter holds the placeholder", { [PARAMETER]: "unset" }],
    ["the parameter is blank", { [PARAMETER]: "  " }],
  ])("skips Slack when %s", async (_, parameters) => {
    const { deps, posts } = slack();

    const result = await invoke(
      makeHandler(deps(parameters)),
      snsEvent("modeldrop: churn.csv model ready"),
    );

    expect(result).toEqual({ delivered: 0, skipped: "no webhook configured" });
    expect(posts).toEqual([]);
  });

  it.each([
    ["Slack answers 404", () => slack(new Response("no_service", { status: 404 }))],
    [
      "Slack is unreachable",
      () =>
        slack(
          new TypeError("fetch failed"),
          new TypeError("fetch failed"),
          new TypeError("fetch failed"),
        ),
    ],
    [
      "Slack rate-limits every attempt",
      () => slack(tooManyRequests("1"), tooManyRequests("1"), tooManyRequests("1")),
    ],
  ])("never logs the webhook URL when %s", async (_, script) => {
    const { deps } = script();

    const { output } = await captureOutput(() =>
      invoke(makeHandler(deps()), snsEvent("modeldrop: churn.csv model ready")),
    );

    expect(output).toContain("Slack");
    expect(output).not.toContain(SECRET_PART);
  });

  it("never logs the webhook URL when the stored URL is malformed and fetch quotes it", async () => {
    const malformed = `hooks.slack.com/services/T0001/B0002/${SECRET_PART}`;
    const scripted = slack().deps({ [PARAMETER]: malformed });
    const deps = { ...scripted, transport: { ...scripted.transport, post: fetch } };

    const { result, output } = await captureOutput(() =>
      invoke(makeHandler(deps), snsEvent("modeldrop: churn.csv model ready")),
    );

    expect(result).toEqual({ delivered: 0 });
    expect(output).toContain("Slack could not be reached");
    expect(output).not.toContain(SECRET_PART);
  });
});
