/**
 * Live data and navigation. `usePoll` asks the API again every ~1.5 s with If-None-Match (an
 * unchanged resource costs a 304 and no re-render), waits while the tab is hidden, and backs
 * off on errors; a refused token signs the session out. Routes live in the URL's hash.
 */
import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from "react";
import type { RouteName } from "../core/api.js";
import { type AnswerOf, type CallInput, TokenRefused } from "./api.js";
import { useSession } from "./session.js";

export const POLL_MS = 1500;
const HIDDEN_MS = 30_000;
const MAX_BACKOFF_MS = 30_000;

export interface Polled<T> {
  data: T | undefined;
  error: Error | undefined;
  /** Ask now instead of at the next tick (after an action that changed the resource). */
  refresh: () => void;
}

/** Resolves after `ms`, early when the tab becomes visible or `wake` is called. */
function pause(ms: number, signal: AbortSignal, wake: { current: (() => void) | undefined }) {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      document.removeEventListener("visibilitychange", onVisible);
      signal.removeEventListener("abort", done);
      wake.current = undefined;
      resolve();
    };
    const onVisible = () => {
      if (!document.hidden) done();
    };
    const timer = setTimeout(done, ms);
    document.addEventListener("visibilitychange", onVisible);
    signal.addEventListener("abort", done);
    wake.current = done;
  });
}

export function usePoll<N extends RouteName>(
  name: N,
  input: CallInput<N> | undefined,
  options: { until?: (data: AnswerOf<N>) => boolean; intervalMs?: number } = {},
): Polled<AnswerOf<N>> {
  const { client, signOut } = useSession();
  const [data, setData] = useState<AnswerOf<N>>();
  const [error, setError] = useState<Error>();
  const wake = useRef<(() => void) | undefined>(undefined);
  const until = useRef(options.until);
  until.current = options.until;
  const key = input === undefined ? undefined : JSON.stringify(input);
  const interval = options.intervalMs ?? POLL_MS;

  useEffect(() => {
    if (key === undefined) return;
    const request = JSON.parse(key) as CallInput<N>;
    const stop = new AbortController();
    setData(undefined);
    setError(undefined);
    (async () => {
      let etag: string | undefined;
      let failures = 0;
      while (!stop.signal.aborted) {
        try {
          const answer = await client.call(name, { ...request, signal: stop.signal }, etag);
          failures = 0;
          setError(undefined);
          if (answer.body !== undefined) {
            etag = answer.etag;
            setData(answer.body);
            if (until.current?.(answer.body)) return;
          }
        } catch (failure) {
          if (stop.signal.aborted) return;
          if (failure instanceof TokenRefused) return signOut(failure.message);
          failures += 1;
          setError(failure instanceof Error ? failure : new Error(String(failure)));
        }
        const wait = document.hidden
          ? HIDDEN_MS
          : failures > 0
            ? Math.min(MAX_BACKOFF_MS, interval * 2 ** failures)
            : interval;
        await pause(wait, stop.signal, wake);
      }
    })();
    return () => stop.abort();
  }, [client, name, key, interval, signOut]);

  const refresh = useCallback(() => wake.current?.(), []);
  return { data, error, refresh };
}

// ---- the hash router ------------------------------------------------------------------------

export interface Location {
  /** `/runs/01J…` */
  path: string;
  segments: string[];
  query: URLSearchParams;
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener("hashchange", onChange);
  return () => window.removeEventListener("hashchange", onChange);
}

export function useLocation(): Location {
  const hash = useSyncExternalStore(subscribe, () => location.hash);
  const text = hash.replace(/^#/, "") || "/runs";
  const [path = "/runs", search = ""] = text.split("?");
  return {
    path,
    segments: path.split("/").filter(Boolean).map(decodeURIComponent),
    query: new URLSearchParams(search),
  };
}

/** `href` for a route: `#/runs/<id>` with each segment encoded. */
export function href(segments: (string | number)[], query?: Record<string, string | undefined>) {
  const path = segments.map((s) => encodeURIComponent(String(s))).join("/");
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v) search.set(k, v);
  const text = search.toString();
  return `#/${path}${text ? `?${text}` : ""}`;
}

export function navigate(to: string): void {
  location.hash = to.replace(/^#/, "");
}
