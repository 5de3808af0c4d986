/**
 * Events as AWS delivers them to a function, in the shapes the handlers' schemas (Powertools'
 * built-in ones) expect: EventBridge envelopes, S3's Object Created detail, SNS records, API
 * Gateway HTTP API (payload 2.0) requests, and the Lambda context.
 */
import type { Context } from "aws-lambda";

const ACCOUNT = "123456789012";
const REGION = "us-east-1";
const TIME = "2026-11-02T09:00:00Z";

/** The context Lambda passes a handler. */
export function lambdaContext(functionName = "modeldrop-test"): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${functionName}`,
    memoryLimitInMB: "512",
    awsRequestId: "c6af9ac6-7b61-11e6-9a41-93e812345678",
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: "2026/11/02/[$LATEST]0123456789abcdef",
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** An EventBridge event around `detail`. */
export function eventBridgeEvent(source: string, detailType: string, detail: unknown) {
  return {
    version: "0",
    id: "17793124-05d4-b198-2fde-7ededc63b103",
    "detail-type": detailType,
    source,
    account: ACCOUNT,
    time: TIME,
    region: REGION,
    resources: [],
    detail,
  };
}

/** S3's Object Created event through EventBridge; `key` as S3 encodes it. */
export function objectCreatedEvent(
  bucket: string,
  key: string,
  object: { size?: number; versionId?: string } = {},
) {
  return {
    ...eventBridgeEvent("aws.s3", "Object Created", {
      version: "0",
      bucket: { name: bucket },
      object: {
        key,
        size: object.size ?? 2048,
        etag: "d41d8cd98f00b204e9800998ecf8427e",
        ...(object.versionId === undefined ? {} : { "version-id": object.versionId }),
        sequencer: "00617F08299329D189",
      },
      "request-id": "N4N7GDK58NMKJ12R",
      requester: ACCOUNT,
      "source-ip-address": "198.51.100.7",
      reason: "PutObject",
    }),
    resources: [`arn:aws:s3:::${bucket}`],
  };
}

/** An SNS event with one record per message. */
export function snsEvent(
  messages: {
    messageId?: string;
    subject?: string;
    message: string;
    attributes?: Record<string, string>;
  }[],
) {
  const topic = `arn:aws:sns:${REGION}:${ACCOUNT}:modeldrop-notices`;
  return {
    Records: messages.map((m, i) => ({
      EventSource: "aws:sns",
      EventVersion: "1.0",
      EventSubscriptionArn: `${topic}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55`,
      Sns: {
        Type: "Notification",
        MessageId: m.messageId ?? `95df01b4-ee98-5cb9-9903-4c221d41eb5${i}`,
        TopicArn: topic,
        ...(m.subject === undefined ? {} : { Subject: m.subject }),
        Message: m.message,
        Timestamp: "2026-11-02T09:00:00.000Z",
        SignatureVersion: "1",
        Signature: "EXAMPLE",
        SigningCertUrl: "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000.pem",
        UnsubscribeUrl: `https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${topic}`,
        MessageAttributes: Object.fromEntries(
          Object.entries(m.attributes ?? {}).map(([name, value]) => [
            name,
            { Type: "String", Value: value },
          ]),
        ),
      },
    })),
  };
}

/** An API Gateway HTTP API request (payload format 2.0), as the Lambda integration sends it. */
export function httpEvent(
  request: {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    query?: Record<string, string>;
    pathParameters?: Record<string, string>;
    body?: string;
    principal?: string;
  } = {},
) {
  const method = request.method ?? "GET";
  const path = request.path ?? "/";
  const query = request.query ?? {};
  return {
    version: "2.0",
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: new URLSearchParams(query).toString(),
    headers: { "user-agent": "vitest", ...request.headers },
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    ...(request.pathParameters ? { pathParameters: request.pathParameters } : {}),
    ...(request.body === undefined ? {} : { body: request.body }),
    isBase64Encoded: false,
    requestContext: {
      accountId: ACCOUNT,
      apiId: "api1234567",
      domainName: "api1234567.execute-api.us-east-1.amazonaws.com",
      domainPrefix: "api1234567",
      http: { method, path, protocol: "HTTP/1.1", sourceIp: "198.51.100.7", userAgent: "vitest" },
      requestId: "r1",
      routeKey: `${method} ${path}`,
      stage: "$default",
      time: "02/Nov/2026:09:00:00 +0000",
      timeEpoch: Date.parse(TIME),
      ...(request.principal ? { authorizer: { lambda: { principal: request.principal } } } : {}),
    },
  };
}

/**
 * Invokes a function's handler as Lambda does, with a context. The event is whatever a test
 * sends: the handler's parser middleware checks it (that is what the test exercises), so its
 * static event type is set aside here.
 */
export function invoke<R>(
  handler: (event: never, context: Context) => Promise<R>,
  event: unknown,
): Promise<R> {
  return handler(event as never, lambdaContext());
}
