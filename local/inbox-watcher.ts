// The local form of the S3 inbox: a folder polled for files. A file is uploaded to
// `inbox/<name>` once it has stopped changing (same size and mtime on two polls), so a copy
// still in progress is never uploaded half-written. Sidecar option files go before data files
// seen in the same poll. What was uploaded is remembered across restarts.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { readJsonFile, writeJsonAtomic } from "./files.js";
import type { ObjectStore } from "./s3-store.js";

const PARTIAL = /(^\.|~$|\.part$|\.crdownload$|\.tmp$|\.swp$)/;

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
    let names: string[];
    try {
      names = readdirSync(this.options.folder);
    } catch {
      return done;
    }
    const ordered = names
      .filter((n) => !PARTIAL.test(n))
      .sort(
        (a, b) => Number(!a.endsWith(".modeldrop.json")) - Number(!b.endsWith(".modeldrop.json")),
      );
    for (const name of ordered) {
      const path = join(this.options.folder, name);
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
}

function contentType(name: string): string {
  if (name.endsWith(".csv")) return "text/csv";
  if (name.endsWith(".json")) return "application/json";
  if (name.endsWith(".zip")) return "application/zip";
  return "application/octet-stream";
}
