// Accepted but not yet delivered: one JSON file per item in a folder of the state dir, written
// before the request that caused it is answered and removed once it is delivered. What a
// crashed (or stopped) process left is read when the next one opens the folder, before it
// accepts anything, so a resumed item is never one that is already being delivered.
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { readJsonFile, writeJsonAtomic } from "./files.js";

export class PendingFolder {
  private readonly leftOver: string[];

  constructor(private readonly folder: string) {
    mkdirSync(folder, { recursive: true });
    this.leftOver = readdirSync(folder).sort();
  }

  /** Stores (or replaces) the item `name` on disk: the old content or the new, never half. */
  write(name: string, value: unknown): void {
    writeJsonAtomic(this.path(name), value);
  }

  remove(name: string): void {
    rmSync(this.path(name), { force: true });
  }

  /** What an earlier process left, in name order, once. */
  takeLeftOver(): { name: string; value: unknown }[] {
    const items: { name: string; value: unknown }[] = [];
    for (const file of this.leftOver.splice(0)) {
      // A temporary file left by a crash never became an accepted item.
      if (!file.endsWith(".json")) {
        rmSync(join(this.folder, file), { force: true });
        continue;
      }
      items.push({
        name: file.slice(0, -".json".length),
        value: readJsonFile(join(this.folder, file), undefined),
      });
    }
    return items;
  }

  private path(name: string): string {
    return join(this.folder, `${name}.json`);
  }
}
