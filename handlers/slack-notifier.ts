/**
 * SNS → Slack: each notice in the SNS event (parsed with Powertools' built-in schema) is posted
 * to the webhook stored as an SSM SecureString (app/slack.ts).
 */
import { SnsSchema } from "@aws-lambda-powertools/parser/schemas";
import type { Ports } from "../app/ports.js";
import { postToSlack, type SlackTransport } from "../app/slack.js";
import { config } from "../aws/config.js";
import { RUN_ID_ATTRIBUTE } from "../aws/notices.js";
import { ports } from "../aws/root.js";
import { lambdaHandler } from "./lambda.js";

export interface Deps {
  ports: Pick<Ports, "secrets" | "runs" | "log" | "now">;
  parameterName: () => string;
  transport: SlackTransport;
}

export function makeHandler(deps: Deps) {
  return lambdaHandler(SnsSchema, ({ Records }) =>
    postToSlack(
      deps.ports,
      deps.transport,
      Records.map(({ Sns: message }) => ({
        messageId: message.MessageId,
        subject: message.Subject ?? "modeldrop notice",
        text: message.Message,
        runId: message.MessageAttributes?.[RUN_ID_ATTRIBUTE]?.Value,
      })),
      deps.parameterName(),
    ),
  );
}

export const handler = makeHandler({
  ports,
  parameterName: () => config().parameters.slackWebhook,
  transport: {
    post: (...args) => fetch(...args),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  },
});
