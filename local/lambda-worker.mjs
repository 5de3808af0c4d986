// One Lambda function's sandbox: a worker thread with its own environment and module state.
// It loads the handler once (a cold start) and then serves invocations one at a time, as one
// Lambda execution environment does. Plain JavaScript so it loads without a TypeScript loader.

import { pathToFileURL } from "node:url";
import { parentPort, workerData } from "node:worker_threads";

const { file, exportName, functionName, memoryMb, timeoutSeconds } = workerData;
let handlerPromise;

function loadHandler() {
  handlerPromise ??= import(pathToFileURL(file).href).then((module) => {
    const handler = module[exportName] ?? module.default?.[exportName];
    if (typeof handler !== "function")
      throw new Error(`${file} exports no function named ${exportName}`);
    return handler;
  });
  return handlerPromise;
}

function contextFor(requestId, deadline) {
  return {
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: process.env.MODELDROP_FUNCTION_ARN,
    memoryLimitInMB: String(memoryMb),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: process.env.MODELDROP_LOG_STREAM,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

parentPort.on("message", async ({ requestId, event }) => {
  const deadline = Date.now() + timeoutSeconds * 1000;
  try {
    const handler = await loadHandler();
    const payload = await handler(event, contextFor(requestId, deadline));
    parentPort.postMessage({ requestId, payload: payload === undefined ? null : payload });
  } catch (error) {
    const errorType = error instanceof Error ? error.name : "Error";
    const errorMessage = error instanceof Error ? error.message : String(error);
    const trace = error instanceof Error && error.stack ? error.stack.split("\n") : [];
    parentPort.postMessage({ requestId, error: { errorType, errorMessage, trace } });
  }
});
