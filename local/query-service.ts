// The AWS query protocol (SNS, STS): the operation is the form's `Action`, its parameters are
// the other form fields, an answer is `<{Action}Response><{Action}Result>…` XML with the
// request id in `ResponseMetadata`, and an error is `<ErrorResponse><Error>…</Error>` with a
// `Sender` or `Receiver` type.
import type { IncomingMessage, ServerResponse } from "node:http";
import { AwsError, escapeXml, readBody, requestId, sendXml } from "./http.js";

/** Answers one action with the inner XML of its `<{Action}Result>`; throws AwsError to refuse it. */
export type QueryDispatch = (action: string, params: URLSearchParams) => Promise<string> | string;

export async function serveQuery(
  xmlns: string,
  dispatch: QueryDispatch,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const params = new URLSearchParams((await readBody(req)).toString("utf8"));
  const action = params.get("Action") ?? "";
  try {
    const result = await dispatch(action, params);
    sendXml(
      res,
      200,
      `<${action}Response xmlns="${xmlns}"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>${requestId()}</RequestId></ResponseMetadata></${action}Response>`,
    );
  } catch (error) {
    const e = error instanceof AwsError ? error : new AwsError("InternalError", String(error), 500);
    const type = e.status >= 500 ? "Receiver" : "Sender";
    sendXml(
      res,
      e.status,
      `<ErrorResponse xmlns="${xmlns}"><Error><Type>${type}</Type><Code>${e.code}</Code><Message>${escapeXml(e.message)}</Message></Error><RequestId>${requestId()}</RequestId></ErrorResponse>`,
    );
  }
}
