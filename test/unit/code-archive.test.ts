import { execFileSync } from "node:child_process";
import {
  chmodSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import { pack as tarPack } from "tar-stream";
import { afterEach, describe, expect, it } from "vitest";
import {
  CODE_LIMITS,
  CodeArchiveInvalid,
  type CodeFile,
  packCodeArchive,
  readCodeArchive,
  sha256Hex,
} from "../../core/code-archive.js";

const MANIFEST = JSON.stringify({ framework: "sklearn", train: { entry_point: "train.py" } });
const TRAIN = "import sys\n\nprint('training')\n";

const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

function tempFolder(): string {
  const folder = mkdtempSync(join(tmpdir(), "modeldrop-code-"));
  folders.push(folder);
  return folder;
}

/** A folder with the files written in it; a name ending in `*` is made executable. */
function codeFolder(files: Record<string, string | Buffer>): string {
  const folder = join(tempFolder(), "code");
  mkdirSync(folder);
  for (const [name, body] of Object.entries(files)) {
    const path = join(folder, name.replace(/\*$/, ""));
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, body);
    if (name.endsWith("*")) chmodSync(path, 0o755);
  }
  return folder;
}

/** GNU tar's archive of `members` (default: the whole folder, as `tar -C dir .` writes it). */
function gnuTar(folder: string, options: string[] = ["-z"], members = ["."]): Buffer {
  const out = join(folder, "..", "code.tar");
  execFileSync("tar", [
    "--owner=alice",
    "--group=staff",
    ...options,
    "-cf",
    out,
    "-C",
    folder,
    ...members,
  ]);
  return readFileSync(out);
}

interface ZipMember {
  name: string;
  data?: string;
  mode?: number;
}

/** A zip written by Python's zipfile; `mode` is the unix mode stored in the external attributes. */
function pythonZip(members: ZipMember[]): Buffer {
  const script = [
    "import io, json, sys, zipfile",
    "buffer = io.BytesIO()",
    "with zipfile.ZipFile(buffer, 'w', zipfile.ZIP_DEFLATED) as archive:",
    "    for member in json.load(sys.stdin):",
    "        info = zipfile.ZipInfo(member['name'])",
    "        info.external_attr = member.get('mode', 0o100644) << 16",
    "        info.compress_type = zipfile.ZIP_DEFLATED",
    "        archive.writestr(info, member.get('data', ''))",
    "sys.stdout.buffer.write(buffer.getvalue())",
  ].join("\n");
  return execFileSync("python3", ["-c", script], { input: JSON.stringify(members) });
}

/** A .tar.gz with names GNU tar would not write, made entry by entry. */
async function hostileTarGz(
  entries: { name: string; type?: "file" | "symlink"; data?: string; linkname?: string }[],
): Promise<Buffer> {
  const pack = tarPack();
  for (const { data = "", ...header } of entries) pack.entry(header, data);
  pack.finalize();
  const chunks: Uint8Array[] = [];
  for await (const chunk of pack) chunks.push(chunk as Uint8Array);
  return gzipSync(Buffer.concat(chunks));
}

/** The 512-byte tar header tar-stream writes for a file of `size` bytes, without its data. */
async function tarHeader(name: string, size: number): Promise<Buffer> {
  const pack = tarPack();
  pack.entry({ name, size });
  for await (const chunk of pack) return Buffer.from(chunk as Uint8Array);
  throw new Error("tar-stream wrote no header");
}

function summary(files: CodeFile[]) {
  return files.map(({ path, executable, data }) => ({ path, executable, text: data.toString() }));
}

async function refusal(archive: Promise<unknown>): Promise<CodeArchiveInvalid> {
  const error = await archive.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(CodeArchiveInvalid);
  return error as CodeArchiveInvalid;
}

describe("reading a code archive", () => {
  it("reads a folder that GNU tar gzipped, with executable bits and nested paths", async () => {
    const folder = codeFolder({
      "modeldrop.json": MANIFEST,
      "train.py*": TRAIN,
      "lib/features.py": "SCALE = 2\n",
    });

    const files = await readCodeArchive(gnuTar(folder));

    expect(summary(files)).toEqual([
      { path: "lib/features.py", executable: false, text: "SCALE = 2\n" },
      { path: "modeldrop.json", executable: false, text: MANIFEST },
      { path: "train.py", executable: true, text: TRAIN },
    ]);
  });

  it("reads an uncompressed tar and long names in GNU and pax headers", async () => {
    const deep = `${"very-long-folder-name/".repeat(8)}train.py`;
    const folder = codeFolder({ "modeldrop.json": MANIFEST, [deep]: TRAIN });

    for (const format of ["--format=gnu", "--format=pax"]) {
      const files = await readCodeArchive(gnuTar(folder, [format]));

      expect(files.map((file) => file.path)).toEqual(["modeldrop.json", deep]);
    }
  });

  it("reads a zip that Python wrote, taking the executable bit from the unix mode", async () => {
    const zip = pythonZip([
      { name: "lib/", mode: 0o40755 },
      { name: "lib/features.py", data: "SCALE = 2\n" },
      { name: "modeldrop.json", data: MANIFEST },
      { name: "train.py", data: TRAIN, mode: 0o100755 },
    ]);

    const files = await readCodeArchive(zip);

    expect(summary(files)).toEqual([
      { path: "lib/features.py", executable: false, text: "SCALE = 2\n" },
      { path: "modeldrop.json", executable: false, text: MANIFEST },
      { path: "train.py", executable: true, text: TRAIN },
    ]);
  });

  it("strips the one top folder a zipped folder has when its modeldrop.json is in it", async () => {
    const zip = pythonZip([
      { name: "churn/", mode: 0o40755 },
      { name: "churn/modeldrop.json", data: MANIFEST },
      { name: "churn/train.py", data: TRAIN },
      { name: "__MACOSX/churn/._train.py", data: "resource fork" },
    ]);

    const files = await readCodeArchive(zip);

    expect(files.map((file) => file.path)).toEqual(["modeldrop.json", "train.py"]);
  });

  it("keeps a single top folder that holds no modeldrop.json", async () => {
    const zip = pythonZip([
      { name: "lib/features.py", data: "SCALE = 2\n" },
      { name: "lib/train.py", data: TRAIN },
    ]);

    const files = await readCodeArchive(zip);

    expect(files.map((file) => file.path)).toEqual(["lib/features.py", "lib/train.py"]);
  });

  it("drops .DS_Store, __pycache__ and .pyc files without refusing the archive", async () => {
    const folder = codeFolder({
      "modeldrop.json": MANIFEST,
      "train.py": TRAIN,
      ".DS_Store": "finder",
      "lib/.DS_Store": "finder",
      "__pycache__/train.cpython-311.pyc": "bytecode",
      "lib/old.pyc": "bytecode",
    });

    const files = await readCodeArchive(gnuTar(folder));

    expect(files.map((file) => file.path)).toEqual(["modeldrop.json", "train.py"]);
  });
});

describe("packing a code archive", () => {
  it("packs what it read so that reading it again gives the same files", async () => {
    const folder = codeFolder({ "modeldrop.json": MANIFEST, "train.py*": TRAIN, "lib/a.py": "" });
    const read = await readCodeArchive(gnuTar(folder));

    const again = await readCodeArchive(await packCodeArchive(read));

    expect(again).toEqual(read);
  });

  it("gives the same bytes and sha256 for the same files, in any order and from any format", async () => {
    const fromTar = await readCodeArchive(
      gnuTar(codeFolder({ "modeldrop.json": MANIFEST, "train.py*": TRAIN })),
    );
    const fromZip = await readCodeArchive(
      pythonZip([
        { name: "train.py", data: TRAIN, mode: 0o100755 },
        { name: "modeldrop.json", data: MANIFEST },
      ]),
    );

    const first = await packCodeArchive(fromTar);
    const second = await packCodeArchive([...fromZip].reverse());

    expect(second.equals(first)).toBe(true);
    expect(sha256Hex(second)).toBe(sha256Hex(first));
    expect(sha256Hex(first)).toMatch(/^[0-9a-f]{64}$/);
  });

  it("writes entries GNU tar lists with mode 0644/0755, owner 0/0 and mtime 0", async () => {
    const packed = await packCodeArchive([
      { path: "train.py", executable: true, data: Buffer.from(TRAIN) },
      { path: "modeldrop.json", executable: false, data: Buffer.from(MANIFEST) },
    ]);
    const archive = join(tempFolder(), "code.tar.gz");
    writeFileSync(archive, packed);

    const listing = execFileSync("tar", ["--numeric-owner", "--utc", "-tvzf", archive], {
      encoding: "utf8",
    });

    expect(listing.trim().split("\n")).toEqual([
      expect.stringMatching(/^-rw-r--r-- 0\/0 +\d+ 1970-01-01 00:00 modeldrop\.json$/),
      expect.stringMatching(/^-rwxr-xr-x 0\/0 +\d+ 1970-01-01 00:00 train\.py$/),
    ]);
    expect(packed.readUInt32LE(4)).toBe(0); // no gzip timestamp
  });

  it("refuses to pack a path that leaves the code folder", async () => {
    const error = await refusal(
      packCodeArchive([{ path: "../evil.py", executable: false, data: Buffer.from("") }]),
    );

    expect(error.message).toBe(
      "the code archive holds ../evil.py, a path that leaves the code folder",
    );
  });
});

describe("refusing a code archive", () => {
  it("refuses a path that leaves the code folder", async () => {
    const archive = await hostileTarGz([
      { name: "train.py", data: TRAIN },
      { name: "../evil.py", data: "import os" },
    ]);

    const error = await refusal(readCodeArchive(archive));

    expect(error.message).toBe(
      "the code archive holds ../evil.py, a path that leaves the code folder",
    );
  });

  it("refuses a path that GNU tar -P wrote with ../ in the middle", async () => {
    const folder = codeFolder({ "train.py": TRAIN });
    const archive = gnuTar(folder, ["-z", "-P", "--transform=s,^,lib/../../,"], ["train.py"]);

    const error = await refusal(readCodeArchive(archive));

    expect(error.message).toBe(
      "the code archive holds lib/../../train.py, a path that leaves the code folder",
    );
  });

  it.each([
    [
      "an absolute path",
      "/etc/cron.d/evil",
      "the code archive holds /etc/cron.d/evil, an absolute path",
    ],
    ["a drive letter", "C:/evil.py", "the code archive holds C:/evil.py, an absolute path"],
    [
      "a NUL character",
      "é\u0000.py",
      "the code archive holds é\\x00.py, a path with a NUL character",
    ],
  ])("refuses a tar entry with %s", async (_, name, message) => {
    const error = await refusal(readCodeArchive(await hostileTarGz([{ name, data: "x" }])));

    expect(error.message).toBe(message);
  });

  it("refuses a zip entry whose name has a backslash", async () => {
    const zip = pythonZip([{ name: "lib\\train.py", data: TRAIN }]);

    const error = await refusal(readCodeArchive(zip));

    expect(error.message).toBe("the code archive holds lib\\train.py, a path with a backslash");
  });

  it("refuses a symbolic link that GNU tar archived", async () => {
    const folder = codeFolder({ "train.py": TRAIN });
    symlinkSync("/etc/passwd", join(folder, "data.csv"));

    const error = await refusal(readCodeArchive(gnuTar(folder)));

    expect(error.message).toBe(
      "the code archive holds data.csv, a symbolic link; modeldrop reads only regular files",
    );
  });

  it("refuses a symbolic link in a zip", async () => {
    const zip = pythonZip([
      { name: "train.py", data: TRAIN },
      { name: "data.csv", data: "/etc/passwd", mode: 0o120777 },
    ]);

    const error = await refusal(readCodeArchive(zip));

    expect(error.message).toBe(
      "the code archive holds data.csv, a symbolic link; modeldrop reads only regular files",
    );
  });

  it("refuses a hard link", async () => {
    const folder = codeFolder({ "train.py": TRAIN });
    linkSync(join(folder, "train.py"), join(folder, "same.py"));
    expect(statSync(join(folder, "same.py")).nlink).toBe(2);

    const error = await refusal(readCodeArchive(gnuTar(folder, ["-z"], ["same.py", "train.py"])));

    expect(error.message).toBe(
      "the code archive holds train.py, a hard link; modeldrop reads only regular files",
    );
  });

  it("refuses a path that appears twice, once as ./", async () => {
    const folder = codeFolder({ "train.py": TRAIN });
    const archive = gnuTar(folder, ["-z", "--hard-dereference"], ["train.py", "./train.py"]);

    const error = await refusal(readCodeArchive(archive));

    expect(error.message).toBe("the code archive holds train.py twice");
  });

  it("refuses a path that is both a file and a folder", async () => {
    const archive = await hostileTarGz([
      { name: "lib", data: "x" },
      { name: "lib/a.py", data: "x" },
    ]);

    const error = await refusal(readCodeArchive(archive));

    expect(error.message).toBe("the code archive holds lib both as a file and as a folder");
  });

  it("refuses more entries than the limit, in a tar and in a zip", async () => {
    const limits = { ...CODE_LIMITS, maxFiles: 3 };
    const names = ["a.py", "b.py", "c.py", "d.py"];
    const tar = gnuTar(codeFolder(Object.fromEntries(names.map((name) => [name, "x"]))));
    const zip = pythonZip(names.map((name) => ({ name, data: "x" })));

    for (const archive of [tar, zip]) {
      const error = await refusal(readCodeArchive(archive, limits));

      expect(error.message).toBe(
        "the code archive holds more than 3 entries (files and folders), the most modeldrop accepts",
      );
    }
  });

  it("refuses a 10 MB file under a 1 MB unpacked cap, in a tar.gz and in a zip", async () => {
    const limits = { ...CODE_LIMITS, maxUnpackedBytes: 1024 * 1024 };
    const zeros = Buffer.alloc(10 * 1024 * 1024);
    const tar = gnuTar(codeFolder({ "train.py": TRAIN, "weights.bin": zeros }));
    const zip = pythonZip([{ name: "weights.bin", data: "\0".repeat(10 * 1024 * 1024) }]);

    for (const archive of [tar, zip]) {
      expect(archive.length).toBeLessThan(100 * 1024);
      const error = await refusal(readCodeArchive(archive, limits));

      expect(error.message).toBe(
        "the code archive holds weights.bin, which takes the unpacked code past 1 MiB, the most modeldrop accepts",
      );
    }
  });

  it("stops a gzip bomb at its first header instead of inflating a gigabyte", async () => {
    const tenMegabytesOfZeros = gzipSync(Buffer.alloc(10 * 1024 * 1024));
    const bomb = Buffer.concat([
      gzipSync(await tarHeader("weights.bin", 1024 ** 3)),
      ...Array.from({ length: 100 }, () => tenMegabytesOfZeros),
    ]);
    const started = performance.now();

    const error = await refusal(readCodeArchive(bomb));

    expect(performance.now() - started).toBeLessThan(1000);
    expect(error.message).toContain("weights.bin, which takes the unpacked code past 200 MiB");
  });

  it("stops a tar that runs on in zero blocks past its files", async () => {
    const limits = { ...CODE_LIMITS, maxUnpackedBytes: 1024 * 1024, maxFiles: 10 };
    const tar = gnuTar(codeFolder({ "train.py": TRAIN }), []);
    const tenMegabytesOfZeros = gzipSync(Buffer.alloc(10 * 1024 * 1024));
    const bomb = Buffer.concat([gzipSync(tar), tenMegabytesOfZeros, tenMegabytesOfZeros]);

    const error = await refusal(readCodeArchive(bomb, limits));

    expect(error.message).toBe(
      "the code archive unpacks past 1.1 MiB of tar data, more than its files need under the 1 MiB modeldrop accepts",
    );
  });

  it("refuses an archive larger than the limit, naming both sizes", async () => {
    const archive = gnuTar(codeFolder({ "weights.bin": Buffer.alloc(4096, 7) }), []);

    const error = await refusal(
      readCodeArchive(archive, { ...CODE_LIMITS, maxArchiveBytes: 2048 }),
    );

    expect(error.message).toBe("the code archive is 10 KiB, more than the 2 KiB modeldrop accepts");
  });

  it("refuses an encrypted zip entry", async () => {
    const zip = pythonZip([{ name: "train.py", data: TRAIN }]);
    // Python cannot encrypt; set the "encrypted" flag in the central directory instead.
    const central = zip.indexOf("PK\x01\x02", 0, "latin1");
    zip.writeUInt16LE(zip.readUInt16LE(central + 8) | 1, central + 8);

    const error = await refusal(readCodeArchive(zip));

    expect(error.message).toBe(
      "the code archive holds train.py, an encrypted entry modeldrop cannot read",
    );
  });

  it.each([
    ["random bytes", Buffer.from("this is a CSV, not an archive\n1,2,3\n")],
    ["an empty upload", Buffer.alloc(0)],
  ])("refuses %s as not an archive", async (_, bytes) => {
    const error = await refusal(readCodeArchive(bytes));

    expect(error.message).toBe("the code archive is not a .tar.gz, .tar or .zip");
  });

  it("refuses gzip that holds no tar as a damaged .tar.gz", async () => {
    const error = await refusal(readCodeArchive(gzipSync(Buffer.from("x".repeat(2048)))));

    expect(error.message).toMatch(/^the code archive is a damaged \.tar\.gz \(.+\)$/);
  });

  it("refuses a truncated zip as a damaged .zip", async () => {
    const zip = pythonZip([{ name: "train.py", data: TRAIN }]);

    const error = await refusal(readCodeArchive(zip.subarray(0, zip.length - 10)));

    expect(error.message).toMatch(/^the code archive is a damaged \.zip \(.+\)$/);
  });
});
