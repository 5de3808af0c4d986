import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { InboxWatcher } from "../../local/inbox-watcher.js";
import { ObjectStore } from "../../local/s3-store.js";

function watchedFolder() {
  const base = mkdtempSync(join(tmpdir(), "modeldrop-inbox-"));
  const folder = join(base, "inbox");
  mkdirSync(folder);
  const store = new ObjectStore(join(base, "s3"));
  store.createBucket("data", { versioning: true });
  const lines: string[] = [];
  const watcher = new InboxWatcher({
    folder,
    stateDir: base,
    store,
    bucket: "data",
    log: (line) => lines.push(line),
  });
  // A file is uploaded once two polls see it unchanged.
  const settle = () => [...watcher.poll(), ...watcher.poll()];
  return { base, folder, store, lines, settle };
}

describe("the watched inbox folder", () => {
  it("uploads files in subfolders under their folder path as the key prefix", () => {
    const { folder, store, settle } = watchedFolder();
    mkdirSync(join(folder, "2024", "q1"), { recursive: true });
    writeFileSync(join(folder, "2024", "q1", "sales.csv"), "a,b\n1,2\n");

    const uploaded = settle();

    expect(uploaded).toEqual(["inbox/2024/q1/sales.csv"]);
    expect(store.read("data", "inbox/2024/q1/sales.csv").toString()).toBe("a,b\n1,2\n");
  });

  it("never follows a link out of the folder, and says why it skipped it", () => {
    const { base, folder, store, lines, settle } = watchedFolder();
    writeFileSync(join(base, "secret.csv"), "password\nhunter2\n");
    mkdirSync(join(base, "elsewhere"));
    writeFileSync(join(base, "elsewhere", "other.csv"), "x\n1\n");
    symlinkSync(join(base, "secret.csv"), join(folder, "looks-innocent.csv"));
    symlinkSync(join(base, "elsewhere"), join(folder, "linked-folder"));
    symlinkSync("..", join(folder, "parent"));

    const uploaded = settle();

    expect(uploaded).toEqual([]);
    expect(store.list("data")).toEqual([]);
    expect(lines).toEqual(
      expect.arrayContaining([
        "inbox: not uploading looks-innocent.csv: it is a link to something outside the inbox folder",
        "inbox: not uploading linked-folder: it is a link to something outside the inbox folder",
        "inbox: not uploading parent: it is a link to something outside the inbox folder",
      ]),
    );
  });

  it("follows a link to a file inside the folder", () => {
    const { folder, store, settle } = watchedFolder();
    mkdirSync(join(folder, "real"));
    writeFileSync(join(folder, "real", "rows.csv"), "y\n1\n");
    symlinkSync(join(folder, "real", "rows.csv"), join(folder, "alias.csv"));

    const uploaded = settle().sort();

    expect(uploaded).toEqual(["inbox/alias.csv", "inbox/real/rows.csv"]);
    expect(store.read("data", "inbox/alias.csv").toString()).toBe("y\n1\n");
  });
});
