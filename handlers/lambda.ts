/**
 * The one handler plumbing every function is built with: middy as the middleware engine,
 * Powertools' Logger middleware (the request id, function name and cold start on every log
 * line; keys a handler appended are cleared after each invocation) and Powertools' parser
 * middleware, which parses the event with the function's schema before its work runs: the
 * built-in AWS event schemas for EventBridge, SNS and API Gateway events, and modeldrop's own
 * schemas for what the state machines pass their tasks. An event that does not parse fails the
 * invocation with the parser's ParseError naming the field.
 *
 * The API's routes add one more middleware on top of this (handlers/api/http.ts).
 */
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { parser } from "@aws-lambda-powertools/parser/middleware";
import type { ParsedResult } from "@aws-lambda-powertools/parser/types";
import middy from "@middy/core";
import type { Context } from "aws-lambda";
import type { z } from "zod";
import { logger } from "../aws/logger.js";

export { logger };

/** A function that parses its event with `schema` and then does `work` with it. */
export function lambdaHandler<S extends z.ZodType, R>(
  schema: S,
  work: (event: z.output<S>, context: Context) => Promise<R>,
) {
  return middy<z.output<S>, R>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(parser({ schema }))
    .handler(work);
}

/**
 * The same, for functions that answer an event they cannot parse instead of failing on it (the
 * API and its authorizer): `work` gets the parser's result, success or not.
 */
export function answeringHandler<S extends z.ZodType, R>(
  schema: S,
  work: (parsed: ParsedResult<unknown, z.output<S>>, context: Context) => Promise<R>,
) {
  return middy<ParsedResult<unknown, z.output<S>>, R>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(parser({ schema, safeParse: true }))
    .handler(work);
}
