// The local form of the S3 inbox: a folder polled for files. A file is uploaded to
// `inbox/<name>` once it has stopped changing (same size and mtime on two polls), so a copy
// still in progress is never uploaded half-written. Sidecar option files go before data files
// seen in the same poll. What was uploaded is remembered across restarts. Subfolders become key
// prefixes (`inbox/2024/q1/sales.csv`); a link is followed only when it resolves to something
// inside the folder, so nothing outside the inbox is ever uploaded through it.
import { lstatSync, readdirSync, realpathSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { readJsonFile, writeJsonAtomic } from "./files.js";
import type { ObjectStore } from "./s3-store.js";

const PARTIAL = /(^\.|~$|\.part$|\.crdownload$|\.tmp$|\.swp$)/;
/** Folders deeper than this are not walked (and the log says so). */
const MAX_DEPTH = 8;

export interface InboxWatcherOptions {
  folder: string;
  stateDir: string;
  store: ObjectStore;
  bucket: string;
  intervalMs?: number;
  log?: (line: string) => void;
}

export class InboxWatcher {
  private readonly seen = new Map<string, string>();
  private readonly skipped = new Set<string>();
  private readonly uploadedPath: string;
  private readonly uploaded: Record<string, string>;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: InboxWatcherOptions) {
    this.uploadedPath = join(options.stateDir, "inbox-uploaded.json");
    this.uploaded = readJsonFile(this.uploadedPath, {}) as Record<string, string>;
  }

  start(): void {
    this.timer = setInterval(() => this.poll(), this.options.intervalMs ?? 500);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One pass over the folder; exported for tests that do not want to wait on the timer. */
  poll(): string[] {
    const done: string[] = [];
    const ordered = this.files().sort(
      (a, b) => Number(!a.endsWith(".modeldrop.json")) - Number(!b.endsWith(".modeldrop.json")),
    );
    for (const name of ordered) {
      const path = join(this.options.folder, ...name.split("/"));
      let stamp: string;
      try {
        const stat = statSync(path);
        if (!stat.isFile()) continue;
        stamp = `${stat.size}:${stat.mtimeMs}`;
      } catch {
        continue;
      }
      const stable = this.seen.get(name) === stamp;
      this.seen.set(name, stamp);
      if (!stable || this.uploaded[name] === stamp) continue;
      const key = `inbox/${name}`;
      const version = this.options.store.put(
        this.options.bucket,
        key,
        { file: path },
        { contentType: contentType(name) },
      );
      this.uploaded[name] = stamp;
      writeJsonAtomic(this.uploadedPath, this.uploaded);
      this.options.log?.(
        `inbox: uploaded ${name} to s3://${this.options.bucket}/${key} (version ${version.versionId})`,
      );
      done.push(key);
    }
    return done;
  }

  /** Every file under the folder, as `/`-separated paths relative to it. */
  private files(): string[] {
    const root = this.realRoot();
    if (!root) return [];
    const found: string[] = [];
    const walk = (folder: string, prefix: string, depth: number) => {
      let names: string[];
      try {
        names = readdirSync(folder);
      } catch {
        return;
      }
      for (const name of names) {
        if (PARTIAL.test(name)) continue;
        const path = join(folder, name);
        const relativeName = `${prefix}${name}`;
        let kind: "file" | "folder" | undefined;
        try {
          kind = this.kindInside(path, root, relativeName);
        } catch {
          continue;
        }
        if (kind === "file") found.push(relativeName);
        else if (kind === "folder" && depth < MAX_DEPTH) walk(path, `${relativeName}/`, depth + 1);
        else if (kind === "folder")
          this.skip(relativeName, `it is more than ${MAX_DEPTH} folders deep`);
      }
    };
    walk(this.options.folder, "", 1);
    return found;
  }

  /** A file or folder to walk, or undefined: a link is followed only to something inside the inbox. */
  private kindInside(path: string, root: string, name: string): "file" | "folder" | undefined {
    const own = lstatSync(path);
    if (own.isSymbolicLink()) {
      const target = realpathSync(path);
      const inside = relative(root, target);
      if (
        inside === "" ||
        inside.startsWith(`..${sep}`) ||
        inside === ".." ||
        inside.startsWith(sep)
      ) {
        this.skip(name, "it is a link to something outside the inbox folder");
        return undefined;
      }
      // Inside the folder: the target is walked under its own name too; a link to a folder
      // would upload the same files twice (or loop), so only links to files are followed.
      const stat = statSync(path);
      if (stat.isFile()) return "file";
      this.skip(name, "it is a link to a folder");
      return undefined;
    }
    if (own.isFile()) return "file";
    if (own.isDirectory()) return "folder";
    this.skip(name, "it is not a regular file");
    return undefined;
  }

  private realRoot(): string | undefined {
    try {
      return realpathSync(this.options.folder);
    } catch {
      return undefined;
    }
  }

  /** Says once per name why it is not uploaded. */
  private skip(name: string, why: string): void {
    if (this.skipped.has(name)) return;
    this.skipped.add(name);
    this.options.log?.(`inbox: not uploading ${name}: ${why}`);
  }
}

function contentType(name: string): string {
  if (name.endsWith(".csv")) return "text/csv";
  if (name.endsWith(".json")) return "application/json";
  if (name.endsWith(".zip")) return "application/zip";
  return "application/octet-stream";
}
