/** Small pieces every page uses: status badges, times, money, error notes, fields. */
import type { ReactNode } from "react";
import { ApiProblem, InvalidRequest, Unreachable } from "./api.js";

export function StatusBadge({ status }: { status: string }) {
  return <span className={`status status-${status.toLowerCase()}`}>{status}</span>;
}

export function Time({ at }: { at: string | undefined }) {
  if (!at) return <>—</>;
  const date = new Date(at);
  return (
    <time dateTime={at} title={date.toISOString()}>
      {date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" })}
    </time>
  );
}

export function seconds(value: number | undefined): string {
  if (value === undefined) return "—";
  if (value < 60) return `${value.toFixed(value < 10 ? 1 : 0)} s`;
  const m = Math.floor(value / 60);
  if (m < 60) return `${m} min ${Math.round(value % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function usd(value: number | undefined): string {
  if (value === undefined) return "—";
  return value < 0.01 ? `$${value.toFixed(4)}` : `$${value.toFixed(2)}`;
}

/** Duration of a run: to its end, or to now while it runs. */
export function runSeconds(run: { createdAt: string; endedAt?: string | undefined }): number {
  const end = run.endedAt ? Date.parse(run.endedAt) : Date.now();
  return Math.max(0, (end - Date.parse(run.createdAt)) / 1000);
}

/** What went wrong, in words a user acts on. */
export function describe(error: unknown): string {
  if (error instanceof InvalidRequest) return error.issues.map((i) => i.detail).join("; ");
  if (error instanceof ApiProblem) return `${error.message} (${error.code})`;
  if (error instanceof Unreachable) return `${error.message}; retrying…`;
  return error instanceof Error ? error.message : String(error);
}

export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p className="error-note" role="alert">
      {describe(error)}
    </p>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="loading" aria-live="polite">
      Loading {what}…
    </p>
  );
}

/**
 * A labelled control with its help and its error below, wired for screen readers; `check` puts
 * a checkbox or radio button before its label.
 */
export function Field({
  id,
  label,
  help,
  error,
  check,
  children,
}: {
  id: string;
  label: string;
  help?: string | undefined;
  error?: string | undefined;
  check?: boolean;
  children: ReactNode;
}) {
  const labelled = <label htmlFor={id}>{label}</label>;
  return (
    <div className={`field${check ? " field-check" : ""}${error ? " field-invalid" : ""}`}>
      {check ? children : labelled}
      {check ? labelled : children}
      {help && (
        <p id={`${id}-help`} className="help">
          {help}
        </p>
      )}
      {error && (
        <p id={`${id}-error`} className="field-error">
          {error}
        </p>
      )}
    </div>
  );
}

/**
 * The errors a failed request has for the form's fields (`options.target` → its message): every
 * issue the request's own schemas found, or the field the API's problem names; undefined when
 * the failure belongs to no field.
 */
export function fieldErrors(failure: unknown): Record<string, string> | undefined {
  if (failure instanceof InvalidRequest)
    return Object.fromEntries(failure.issues.map((issue) => [issue.field, issue.detail]));
  if (failure instanceof ApiProblem && failure.field) return { [failure.field]: failure.message };
  return undefined;
}

/** An upload's progress bar, announced politely. */
export function UploadProgress({ fraction }: { fraction: number | undefined }) {
  if (fraction === undefined) return null;
  return (
    <p aria-live="polite">
      uploading <progress max={1} value={fraction} aria-label="upload progress" />{" "}
      {Math.round(fraction * 100)}%
    </p>
  );
}

/** aria attributes of a control inside <Field>. */
export function described(id: string, help: string | undefined, error: string | undefined) {
  const ids = [error ? `${id}-error` : "", help ? `${id}-help` : ""].filter(Boolean).join(" ");
  return {
    id,
    ...(ids ? { "aria-describedby": ids } : {}),
    ...(error ? { "aria-invalid": true } : {}),
  };
}
