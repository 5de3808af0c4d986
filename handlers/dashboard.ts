/**
 * GET / and GET /assets/{file}: the web dashboard's page and its built script and styles, read
 * once from the function's own package (web/dist, put there by `npm run build:web` and the
 * function's package patterns), gzipped for browsers that take it (HTTP APIs do not compress).
 * No data is served here: the page calls the API with the token.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { APIGatewayProxyEventV2Schema } from "@aws-lambda-powertools/parser/schemas";
import type { Ports } from "../app/ports.js";
import { config } from "../aws/config.js";
import { ports } from "../aws/root.js";
import { dashboardFile, dashboardHeaders } from "../core/dashboard.js";
import { answeringHandler } from "./lambda.js";

export interface Deps {
  /** The folder holding index.html and assets/. */
  dist: () => string;
  /** The bucket endpoint's origin, which the page uploads to and reads outputs from. */
  storageOrigin: () => Promise<string>;
}

interface Answer {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded?: boolean;
}

interface Loaded {
  text: string;
  /** base64 of the gzipped text. */
  gzipped: string;
}

export function makeHandler(deps: Deps) {
  const files = new Map<string, Loaded | undefined>();
  const read = (file: string) => {
    if (!files.has(file))
      try {
        const bytes = readFileSync(join(deps.dist(), file));
        files.set(file, {
          text: bytes.toString("utf8"),
          gzipped: gzipSync(bytes, { level: 9 }).toString("base64"),
        });
      } catch {
        files.set(file, undefined);
      }
    return files.get(file);
  };
  let origin: Promise<string> | undefined;
  return answeringHandler(APIGatewayProxyEventV2Schema, async (parsed): Promise<Answer> => {
    origin ??= deps.storageOrigin();
    const headers = dashboardHeaders(await origin);
    const text = (statusCode: number, body: string): Answer => ({
      statusCode,
      headers: { ...headers, "content-type": "text/plain; charset=utf-8" },
      body,
    });
    if (!parsed.success) return text(400, "the request could not be read");
    const wanted = dashboardFile(parsed.data.rawPath);
    const loaded = wanted && read(wanted.file);
    if (!wanted || loaded === undefined)
      return text(
        wanted?.file === "index.html" ? 503 : 404,
        wanted?.file === "index.html"
          ? "the dashboard was not built into this deployment: run `npm run build:web` before packaging"
          : "not found",
      );
    const fileHeaders = {
      ...headers,
      "content-type": wanted.type,
      "cache-control": wanted.cacheControl,
      vary: "accept-encoding",
    };
    const accepts = parsed.data.headers["accept-encoding"] ?? "";
    if (/\bgzip\b/i.test(accepts))
      return {
        statusCode: 200,
        headers: { ...fileHeaders, "content-encoding": "gzip" },
        body: loaded.gzipped,
        isBase64Encoded: true,
      };
    return { statusCode: 200, headers: fileHeaders, body: loaded.text };
  });
}

/** Presigned links all point at one endpoint: its origin is what the page may reach. */
async function storageOrigin(objects: Ports["objects"], bucket: string): Promise<string> {
  return new URL(await objects.presignGet(bucket, "inbox/")).origin;
}

export const handler = makeHandler({
  dist: () => join(process.env.LAMBDA_TASK_ROOT ?? process.cwd(), "web", "dist"),
  storageOrigin: () => storageOrigin(ports.objects, config().bucket),
});
