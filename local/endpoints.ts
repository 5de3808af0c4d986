// The local cloud's two listeners: the AWS endpoint, which hands each request to the service
// named in its SigV4 credential scope, and the stack's HTTP API (API Gateway's invoke URL).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { ApiGatewayService } from "./api-gateway.js";
import { AwsError, sendJsonError } from "./http.js";
import { type JsonService, serveJson } from "./json-service.js";
import { EndpointHosting } from "./sagemaker-endpoints.js";
import type { Services } from "./services.js";
import { scopeFromHeaders, scopeFromQuery } from "./sigv4.js";

export interface Listener {
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** Drops open connections (keep-alive ones included) and stops listening. */
  close(): Promise<void>;
}

type AwsApis = Pick<
  Services,
  "s3" | "dynamodb" | "sns" | "sts" | "ssm" | "logs" | "sagemaker" | "stepFunctions" | "events"
>;

export function listenForAwsApis(
  services: AwsApis,
  stateDir: string,
  port: number,
): Promise<Listener> {
  const route = routeBySigV4Scope(services, stateDir);
  return listen(
    createServer((req, res) => {
      route(req, res).catch((error: unknown) => {
        if (res.headersSent) return void res.destroy();
        sendJsonError(
          res,
          error instanceof AwsError ? error : new AwsError("InternalFailure", String(error), 500),
        );
      });
    }),
    port,
  );
}

export function listenForHttpApi(api: ApiGatewayService, port: number): Promise<Listener> {
  return listen(
    createServer((req, res) => {
      api.handle(req, res).catch(() => res.destroy());
    }),
    port,
  );
}

function routeBySigV4Scope(
  services: AwsApis,
  stateDir: string,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { s3, dynamodb, sns, sts } = services;
  const jsonServices: Record<string, JsonService> = {
    ssm: services.ssm,
    logs: services.logs,
    sagemaker: services.sagemaker,
    states: services.stepFunctions,
    events: services.events,
  };
  return async (req, res) => {
    const url = new URL(req.url ?? "/", "http://local");
    const scope = scopeFromHeaders(req) ?? scopeFromQuery(url.searchParams);
    const service = scope?.service ?? (isUnsignedBrowserRequest(req) ? "s3" : undefined);
    if (service === "s3") return s3.handle(req, res, url);
    if (service === "dynamodb") return dynamodb.handle(req, res);
    if (service === "sns") return sns.handle(req, res);
    if (service === "sts") return sts.handle(req, res);
    // sagemaker-runtime signs as "sagemaker" too; its one operation has a path of its own.
    if (service === "sagemaker" && EndpointHosting.isRuntimeRequest(url.pathname))
      return services.sagemaker.hosting.invoke(req, res, url.pathname);
    const json = service ? jsonServices[service] : undefined;
    if (json) return serveJson(json, req, res);
    if (!service && req.method === "GET" && url.pathname === "/_modeldrop/health") {
      res.writeHead(200, { "content-type": "application/json" });
      return void res.end(JSON.stringify({ ok: true, stateDir }));
    }
    throw new AwsError(
      "UnrecognizedClientException",
      service
        ? `the local cloud does not serve ${service}`
        : "the request is not signed with SigV4, so its service is unknown",
      400,
    );
  };
}

/**
 * What a browser sends S3 without a scope to route by: a presigned POST carries its credential
 * in the form, not the headers or query, and a CORS preflight (OPTIONS) carries no credential
 * at all. S3 is the one service here that pages call across origins (presigned uploads and
 * downloads) and has CORS rules to answer a preflight with, so every unsigned OPTIONS is S3's.
 */
function isUnsignedBrowserRequest(req: IncomingMessage): boolean {
  if (req.method === "OPTIONS") return true;
  return (
    req.method === "POST" &&
    String(req.headers["content-type"] ?? "").startsWith("multipart/form-data")
  );
}

async function listen(server: Server, port: number): Promise<Listener> {
  await new Promise<void>((done, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => done());
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    port: bound,
    endpoint: `http://127.0.0.1:${bound}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}
