/** `s3://bucket/key` ↔ bucket and key (the local cloud has its own copy: it shares no app code). */
export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m?.[1]) throw new Error(`${uri} is not an s3:// URI`);
  return { bucket: m[1], key: m[2] ?? "" };
}
