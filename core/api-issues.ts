/**
 * How the API words a request that fails its schema: the dotted field at fault and one
 * sentence. The handlers answer 400 with it (handlers/api/http.ts) and the dashboard shows the
 * same words at the field before sending (web/api.ts), from the same schemas.
 */
import type { z } from "zod";

/** Issues carry the value at fault, so a missing field reads apart from one of the wrong type. */
export const PARSE_OPTIONS = { reportInput: true };

export interface RequestIssue {
  /** `options.target`, `fileName`…; empty when the whole request is at fault. */
  field: string;
  detail: string;
}

export function requestIssue(issue: z.core.$ZodIssue | undefined, prefix = ""): RequestIssue {
  const path = [prefix, ...(issue?.path ?? []).map(String)].filter(Boolean).join(".");
  if (issue?.code === "unrecognized_keys") {
    const key = issue.keys[0] ?? "";
    const field = path ? `${path}.${key}` : key;
    return { field, detail: `${field} is not a known field` };
  }
  let message = issue?.message ?? "is invalid";
  if (issue?.code === "invalid_type" && issue.input === undefined) message = "is required";
  return { field: path, detail: `${path || "the request"}: ${message}` };
}
