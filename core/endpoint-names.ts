/**
 * The SageMaker names of endpoints. Apart from core/endpoints.ts because they need node:crypto,
 * and the dashboard bundles the endpoint rules into the browser.
 */
import { createHash } from "node:crypto";
import type { EndpointMode, EndpointRecord } from "./endpoints.js";
import { slug } from "./runs.js";

/**
 * Every SageMaker resource an endpoint uses starts with this (`md-` as jobs do), so IAM limits
 * the functions to them: `endpoint/md-ep-*`, `endpoint-config/md-ep-*`, `model/md-ep-*`.
 */
export const ENDPOINT_PREFIX = "md-ep-";

/**
 * `md-ep-<model slug>-<6 hex of the exact name>-<sl|rt>`: at most 48 characters, so a
 * deployment's `-<generation>-<n>` fits SageMaker's 63; the hash keeps two model names with
 * the same slug (`Churn`, `churn`) apart.
 */
export function endpointName(modelName: string, mode: EndpointMode): string {
  const hash = createHash("sha256").update(modelName).digest("hex").slice(0, 6);
  return `${ENDPOINT_PREFIX}${slug(modelName, 32)}-${hash}-${mode === "serverless" ? "sl" : "rt"}`;
}

/** The SageMaker model and endpoint config of one deployment of an endpoint. */
export function deploymentName(record: Pick<EndpointRecord, "name" | "generation">, n: number) {
  return `${record.name}-${record.generation}-${n}`;
}
