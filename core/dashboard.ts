/**
 * How the dashboard's files are served: which paths exist, their types and caching, and the
 * headers that keep the page locked down. The Content-Security-Policy allows scripts and styles
 * from the page's own origin only (no inline script, no eval), and network access to the API
 * (same origin) and to the bucket's endpoint (presigned uploads, plots and outputs).
 */

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
};

/** `assets/app-<hash>.js` and the like: built names only, nothing that walks out of the folder. */
const ASSET = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export interface DashboardFile {
  /** Relative to web/dist. */
  file: string;
  type: string;
  /** Built assets carry their content hash in their name; the page itself is checked each time. */
  cacheControl: string;
}

/** The file a request path names (`/` or `/assets/<name>`), or undefined for anything else. */
export function dashboardFile(path: string): DashboardFile | undefined {
  if (path === "/")
    return { file: "index.html", type: TYPES[".html"] as string, cacheControl: "no-cache" };
  const name = /^\/assets\/([^/]+)$/.exec(path)?.[1];
  if (!name || !ASSET.test(name) || name.includes("..")) return undefined;
  const type = TYPES[name.slice(name.lastIndexOf("."))];
  if (!type) return undefined;
  return {
    file: `assets/${name}`,
    type,
    cacheControl: "public, max-age=31536000, immutable",
  };
}

/** The headers every dashboard answer carries; `storageOrigin` is the bucket's endpoint. */
export function dashboardHeaders(storageOrigin: string): Record<string, string> {
  const policy = [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self' ${storageOrigin}`,
    `connect-src 'self' ${storageOrigin}`,
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
  return {
    "content-security-policy": policy,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "strict-transport-security": "max-age=31536000",
  };
}
