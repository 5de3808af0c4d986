/**
 * Files in the browser: the presigned POST straight to S3 with upload progress (XHR; fetch
 * cannot report it), the header of a CSV the user picked (to offer its columns as the target),
 * and the first lines of an output read from its presigned link.
 */
import type { AnswerOf } from "./api.js";

export type Upload = AnswerOf<"createUpload">;

export class UploadRefused extends Error {
  override readonly name = "UploadRefused";
}

/** Posts the file with the upload's fields; resolves to the stored object's version id. */
export function postFile(
  upload: Upload,
  file: File,
  onProgress: (fraction: number) => void,
): Promise<string | undefined> {
  const form = new FormData();
  for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
  form.append("file", file);
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", upload.url);
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    request.onload = () => {
      if (request.status >= 200 && request.status < 300) {
        onProgress(1);
        return resolve(request.getResponseHeader("x-amz-version-id") ?? undefined);
      }
      const text = request.responseText;
      const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1];
      const message = /<Message>([^<]+)<\/Message>/.exec(text)?.[1];
      reject(
        new UploadRefused(
          `the upload was refused: ${code ?? `HTTP ${request.status}`}${message ? `: ${message}` : ""}`,
        ),
      );
    };
    request.onerror = () =>
      reject(new UploadRefused("the upload could not reach the bucket (network or CORS)"));
    request.send(form);
  });
}

/** Splits one CSV line, honouring quotes ("a,b" and doubled "" inside them). */
export function csvFields(line: string): string[] {
  const fields: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      fields.push(field);
      field = "";
    } else field += c;
  }
  fields.push(field);
  return fields;
}

function lines(text: string, complete: boolean): string[] {
  const all = text.split(/\r?\n/);
  // The last line of a slice may be cut short: keep it only when the text is whole.
  if (!complete) all.pop();
  return all.filter((line) => line.length > 0);
}

/** The column names of a CSV file, from its first 64 KiB (none for other formats). */
export async function csvHeader(file: File): Promise<string[]> {
  if (!/\.csv$/i.test(file.name)) return [];
  const slice = file.slice(0, 64 * 1024);
  const [first] = lines(await slice.text(), file.size <= 64 * 1024);
  return first ? csvFields(first).map((name) => name.trim()) : [];
}

/** The first `count` lines of an output at a presigned URL (reads 256 KiB at most). */
export async function firstLines(
  url: string,
  count: number,
): Promise<{ lines: string[]; truncated: boolean }> {
  const response = await fetch(url, { cache: "no-store" });
  if (!response.ok || !response.body) throw new Error(`the file answered HTTP ${response.status}`);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let complete = false;
  while (text.length < 256 * 1024 && text.split("\n").length <= count + 1) {
    const { value, done } = await reader.read();
    if (done) {
      complete = true;
      break;
    }
    text += decoder.decode(value, { stream: true });
  }
  if (!complete) await reader.cancel();
  const all = lines(text, complete);
  return { lines: all.slice(0, count), truncated: !complete || all.length > count };
}
