/**
 * The S3 adapter's presigned GETs (aws/objects.ts), signed offline with a real client: the
 * links a polled answer carries stay the same for a while, so its ETag does too.
 */
import { S3Client } from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import { Objects } from "../../aws/objects.js";

const s3 = new S3Client({
  region: "us-east-1",
  credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
});

function presignAt(iso: string): Promise<string> {
  return new Objects(s3, () => new Date(iso)).presignGet(
    "modeldrop-data",
    "runs/r1/report/index.html",
  );
}

describe("a presigned GET", () => {
  it("is the same URL all through a 10-minute window", async () => {
    const early = await presignAt("2026-11-02T10:20:01Z");
    const late = await presignAt("2026-11-02T10:29:59Z");

    expect(late).toBe(early);
  });

  it("is signed at the window's start and valid for an hour after the window's end", async () => {
    const url = new URL(await presignAt("2026-11-02T10:27:30Z"));

    expect(url.searchParams.get("X-Amz-Date")).toBe("20261102T102000Z");
    expect(url.searchParams.get("X-Amz-Expires")).toBe(String(3600 + 600));
  });

  it("changes in the next window", async () => {
    expect(await presignAt("2026-11-02T10:30:00Z")).not.toBe(
      await presignAt("2026-11-02T10:29:59Z"),
    );
  });
});
