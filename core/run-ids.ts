/**
 * Run ids: hashed from what started the run, or a ULID. Apart from core/runs.ts because they
 * need node:crypto, and the dashboard bundles the rest of the run rules into the browser.
 */
import { createHash, randomBytes } from "node:crypto";
import { fileStem, slug } from "./runs.js";

/**
 * `churn-data-3f2a9c1b0d4e`: readable, and the same for the same bucket, key and version, so a
 * redelivered event maps to the run it already started. 37 characters at most, which leaves room
 * for the job prefix and suffixes inside SageMaker's 63.
 */
export function runIdForDrop(bucket: string, key: string, versionId: string): string {
  const digest = createHash("sha256").update(`${bucket}\n${key}\n${versionId}`).digest("hex");
  return `${slug(fileStem(key), 24)}-${digest.slice(0, 12)}`;
}

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** The low `length * 5` bits of the bytes (a big-endian number), in Crockford base32. */
function crockford(bytes: Uint8Array, length: number): string {
  let bits = 0n;
  for (const byte of bytes) bits = (bits << 8n) | BigInt(byte);
  let out = "";
  for (let i = length - 1; i >= 0; i--) out += CROCKFORD[Number((bits >> BigInt(i * 5)) & 31n)];
  return out;
}

/**
 * A run started through the API: a ULID (48-bit millisecond time + 80 random bits, Crockford
 * base32), so ids sort by creation time.
 */
export function newRunId(now: Date = new Date(), random: Uint8Array = randomBytes(10)): string {
  const bytes = new Uint8Array(16);
  let time = BigInt(now.getTime());
  for (let i = 5; i >= 0; i--) {
    bytes[i] = Number(time & 255n);
    time >>= 8n;
  }
  bytes.set(random.subarray(0, 10), 6);
  return crockford(bytes, 26);
}

/**
 * The run id an `Idempotency-Key` maps to: the same key (per route) always names the same run,
 * shaped like a ULID so both kinds of id look alike.
 */
export function runIdForIdempotencyKey(route: string, key: string): string {
  return crockford(createHash("sha256").update(`${route}\n${key}`).digest().subarray(0, 16), 26);
}
