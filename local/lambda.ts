// Lambda functions from their bundles: each function gets its own worker thread (its own
// process.env and module state, kept warm between invocations like an execution environment),
// its console output goes to `/aws/lambda/<name>`, and a run past its timeout is ended.
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { AwsError } from "./http.js";
import type { LogsService } from "./logs.js";
import type { InvokeResult } from "./stepfunctions.js";

export interface FunctionDefinition {
  name: string;
  /** The unpacked artifact: the function's LAMBDA_TASK_ROOT (`/var/task` on AWS). */
  root: string;
  /** The bundle's entry file and the exported handler name (`handler` of `index.handler`). */
  file: string;
  exportName: string;
  environment: Record<string, string>;
  timeoutSeconds: number;
  memoryMb: number;
}

interface Sandbox {
  worker: Worker;
  stream: string;
  pending: Map<string, (result: InvokeResult) => void>;
  /** Invocations are served one at a time per environment, as on Lambda. */
  queue: Promise<unknown>;
}

const WORKER = fileURLToPath(new URL("./lambda-worker.mjs", import.meta.url));

export class FunctionRunner {
  private readonly functions = new Map<string, FunctionDefinition>();
  private readonly sandboxes = new Map<string, Sandbox>();

  constructor(
    private readonly logs: LogsService,
    private readonly region: string,
    private readonly account: string,
    /**
     * The variables every function gets, read when a function's first sandbox starts rather
     * than here: they include the local cloud's endpoint, which listens only after the services
     * that invoke functions (this runner among their collaborators) are built.
     */
    private readonly baseEnvironment: () => Record<string, string>,
  ) {}

  define(fn: FunctionDefinition): void {
    this.functions.set(fn.name, fn);
  }

  arn(name: string): string {
    return `arn:aws:lambda:${this.region}:${this.account}:function:${name}`;
  }

  /** Accepts a name, a function ARN, or a qualified ARN (`…:function:name:$LATEST`). */
  resolve(nameOrArn: string): FunctionDefinition {
    const name = nameOrArn.startsWith("arn:") ? (nameOrArn.split(":")[6] ?? "") : nameOrArn;
    const fn = this.functions.get(name);
    if (!fn)
      throw new AwsError("ResourceNotFoundException", `Function not found: ${this.arn(name)}`, 404);
    return fn;
  }

  async invoke(nameOrArn: string, event: unknown): Promise<InvokeResult> {
    const fn = this.resolve(nameOrArn);
    const sandbox = this.sandbox(fn);
    const run = sandbox.queue.then(() => this.send(fn, sandbox, event));
    sandbox.queue = run.catch(() => {});
    return run;
  }

  async stop(): Promise<void> {
    const workers = [...this.sandboxes.values()].map((s) => s.worker.terminate());
    this.sandboxes.clear();
    await Promise.all(workers);
  }

  private send(fn: FunctionDefinition, sandbox: Sandbox, event: unknown): Promise<InvokeResult> {
    const requestId = randomUUID();
    this.logs.append(
      `/aws/lambda/${fn.name}`,
      sandbox.stream,
      `START RequestId: ${requestId} Version: $LATEST`,
    );
    const started = Date.now();
    return new Promise<InvokeResult>((resolve) => {
      const timer = setTimeout(() => {
        // A timed-out environment is discarded, as Lambda does; the next call starts cold.
        sandbox.pending.delete(requestId);
        this.sandboxes.delete(fn.name);
        void sandbox.worker.terminate();
        resolve({
          payload: null,
          error: {
            errorType: "Sandbox.Timedout",
            errorMessage: `Task timed out after ${fn.timeoutSeconds.toFixed(2)} seconds`,
          },
        });
      }, fn.timeoutSeconds * 1000);
      sandbox.pending.set(requestId, (result) => {
        clearTimeout(timer);
        this.logs.append(`/aws/lambda/${fn.name}`, sandbox.stream, `END RequestId: ${requestId}`);
        this.logs.append(
          `/aws/lambda/${fn.name}`,
          sandbox.stream,
          `REPORT RequestId: ${requestId}\tDuration: ${Date.now() - started} ms`,
        );
        resolve(result);
      });
      sandbox.worker.postMessage({ requestId, event });
    });
  }

  private sandbox(fn: FunctionDefinition): Sandbox {
    const existing = this.sandboxes.get(fn.name);
    if (existing) return existing;
    const stream = `${new Date().toISOString().slice(0, 10).replaceAll("-", "/")}/[$LATEST]${randomUUID().replaceAll("-", "")}`;
    const env = {
      ...this.baseEnvironment(),
      ...fn.environment,
      AWS_LAMBDA_FUNCTION_NAME: fn.name,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
      AWS_LAMBDA_LOG_STREAM_NAME: stream,
      LAMBDA_TASK_ROOT: fn.root,
      MODELDROP_FUNCTION_ARN: this.arn(fn.name),
      MODELDROP_LOG_STREAM: stream,
    };
    const worker = new Worker(WORKER, {
      env,
      stdout: true,
      stderr: true,
      workerData: {
        file: fn.file,
        exportName: fn.exportName,
        functionName: fn.name,
        memoryMb: fn.memoryMb,
        timeoutSeconds: fn.timeoutSeconds,
      },
      resourceLimits: { maxOldGenerationSizeMb: fn.memoryMb },
    });
    const sandbox: Sandbox = { worker, stream, pending: new Map(), queue: Promise.resolve() };
    const log = (chunk: Buffer) => {
      for (const line of chunk.toString("utf8").split("\n"))
        if (line.length > 0) this.logs.append(`/aws/lambda/${fn.name}`, stream, line);
    };
    worker.stdout.on("data", log);
    worker.stderr.on("data", log);
    worker.on("message", (message: { requestId: string } & InvokeResult) => {
      const done = sandbox.pending.get(message.requestId);
      sandbox.pending.delete(message.requestId);
      done?.(
        message.error ? { payload: null, error: message.error } : { payload: message.payload },
      );
    });
    worker.on("error", (error) => {
      this.sandboxes.delete(fn.name);
      for (const done of sandbox.pending.values())
        done({
          payload: null,
          error: { errorType: "Runtime.ExitError", errorMessage: error.message },
        });
      sandbox.pending.clear();
    });
    this.sandboxes.set(fn.name, sandbox);
    return sandbox;
  }
}
