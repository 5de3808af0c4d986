/**
 * Uploads through the API: a presigned POST of exactly one key, with a size cap in its policy
 * (a presigned PUT cannot cap size) and the validated run options as metadata.
 */

import { PREDICTION_INPUT_PREFIX } from "./api-runs.js";
import { CODE_LIMITS } from "./code-archive.js";
import { classifyDrop, INBOX_PREFIX, OPTIONS_METADATA_KEY } from "./drops.js";
import { InvalidRequest, TooLarge } from "./errors.js";
import { parseRunOptions, type RunOptions } from "./options.js";
import { predictionContent } from "./predict-input.js";

/** Where code archives are uploaded before POST /code/{name}/versions registers them. */
export const CODE_UPLOAD_PREFIX = "code-uploads/";

/** 2 GiB: the image-zip cap, and plenty for a table modeldrop trains on one instance. */
const MAX_UPLOAD_BYTES = 2 * 1024 ** 3;
export const UPLOAD_EXPIRY_SECONDS = 15 * 60;

export interface UploadPlan {
  key: string;
  maxBytes: number;
  fields: Record<string, string>;
}

/** A file name, not a path: no separators, no dot segments, no control characters. */
function checkFileName(name: string): void {
  const control = [...name].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);
  if (/[/\\]/.test(name) || name === "." || name === ".." || control)
    throw new InvalidRequest(
      "fileName must be a plain file name without slashes or control characters",
      { field: "fileName" },
    );
}

export function planUpload(args: {
  fileName: string;
  size?: number | undefined;
  purpose: "train" | "predict" | "code";
  options?: RunOptions | undefined;
}): UploadPlan {
  checkFileName(args.fileName);
  if (args.size === 0)
    throw new InvalidRequest(
      `${args.fileName} is empty (0 bytes): there is nothing to ${args.purpose === "predict" ? "predict on" : "train on"}`,
      { field: "size" },
    );
  if (args.size !== undefined && args.size > MAX_UPLOAD_BYTES)
    throw new TooLarge(`the file is ${args.size} bytes; uploads are at most ${MAX_UPLOAD_BYTES}`);
  if (args.purpose === "code") {
    if (args.options)
      throw new InvalidRequest("options apply to training uploads only", { field: "options" });
    if (args.size !== undefined && args.size > CODE_LIMITS.maxArchiveBytes)
      throw new TooLarge(
        `the code archive is ${args.size} bytes; code archives are at most ${CODE_LIMITS.maxArchiveBytes}`,
      );
    return {
      key: `${CODE_UPLOAD_PREFIX}${args.fileName}`,
      maxBytes: CODE_LIMITS.maxArchiveBytes,
      fields: {},
    };
  }
  if (args.purpose === "predict") {
    if (args.options)
      throw new InvalidRequest("options apply to training uploads only", { field: "options" });
    const key = `${PREDICTION_INPUT_PREFIX}${args.fileName}`;
    predictionContent(key);
    return { key, maxBytes: MAX_UPLOAD_BYTES, fields: {} };
  }
  const key = `${INBOX_PREFIX}${args.fileName}`;
  const decision = classifyDrop(key, args.size ?? 1);
  if (decision.action !== "train")
    throw new InvalidRequest(`fileName ${args.fileName}: ${decision.reason}`, {
      field: "fileName",
    });
  const fields: Record<string, string> = {};
  const options = parseRunOptions(args.options ?? {});
  // S3 caps all user metadata of an object at 2 KB; larger options belong in a sidecar file.
  const metadata = JSON.stringify(options);
  if (Buffer.byteLength(metadata) > 1800)
    throw new InvalidRequest(
      "options are too large for object metadata (S3 keeps 2 KB); write them to a sidecar <name>.modeldrop.json",
      { field: "options" },
    );
  if (Object.keys(options).length > 0) fields[`x-amz-meta-${OPTIONS_METADATA_KEY}`] = metadata;
  return { key, maxBytes: MAX_UPLOAD_BYTES, fields };
}
