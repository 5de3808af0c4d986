// Step Functions: state machines and executions, run by aws-local-stepfunctions. Task states
// are served here by their Resource (Lambda invoke, SageMaker `.sync`, SNS publish) with the
// input, output and error shapes AWS uses; executions are kept on disk with their history, and
// every change of status is sent to the EventBridge router as AWS sends it.
import { randomUUID } from "node:crypto";
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  ExecutionAbortedError,
  ExecutionError,
  ExecutionTimeoutError,
  StateMachine,
  type StateMachineDefinition,
} from "aws-local-stepfunctions";
import { isValidDefinition, validateDefinition } from "./asl-definition.js";
import { guardExecution } from "./execution-guard.js";
import { readJsonFile, writeFileAtomic, writeJsonAtomic } from "./files.js";
import { AwsError, isRecord } from "./http.js";
import { type JsonService, optionalNumber, optionalString, requireString } from "./json-service.js";
import type { JobKind, SageMakerService } from "./sagemaker.js";
import type { SnsService } from "./sns.js";

// aws-local-stepfunctions 3.0.0 calls Promise.withResolvers, which Node 20 lacks.
if (!("withResolvers" in Promise)) {
  Object.defineProperty(Promise, "withResolvers", {
    value<T>() {
      let resolve!: (value: T) => void;
      let reject!: (reason: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

/** A function's answer as Lambda's Invoke gives it. */
export interface InvokeResult {
  payload: unknown;
  /** Set when the function threw: Lambda's `FunctionError: Unhandled` with the error's type and message. */
  error?: { errorType: string; errorMessage: string; trace?: string[] };
}

export type FunctionInvoker = (functionName: string, payload: unknown) => Promise<InvokeResult>;
export type EventSink = (event: Record<string, unknown>) => void;

const noFunctions: FunctionInvoker = async (name) => {
  throw new AwsError("ResourceNotFoundException", `Function not found: ${name}`);
};

type Status = "RUNNING" | "SUCCEEDED" | "FAILED" | "TIMED_OUT" | "ABORTED";

interface HistoryEvent {
  id: number;
  previousEventId: number;
  timestamp: number;
  type: string;
  [details: string]: unknown;
}

interface Execution {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: Status;
  startDate: number;
  stopDate?: number;
  input: string;
  output?: string;
  error?: string;
  cause?: string;
  history: HistoryEvent[];
}

interface Machine {
  stateMachineArn: string;
  name: string;
  definition: string;
  roleArn: string;
  type: string;
  creationDate: number;
}

interface Live {
  abort: () => void;
  jobs: Set<string>;
}

const FOREVER_SECONDS = 2_147_483;
const SYNC_JOBS: Record<string, JobKind> = {
  "sagemaker:createTrainingJob.sync": "Training",
  "sagemaker:createProcessingJob.sync": "Processing",
  "sagemaker:createTransformJob.sync": "Transform",
};

/** The task integrations the local cloud serves; a definition using another is refused at load. */
const SERVED_TASKS = new Set([
  "lambda:invoke",
  "sns:publish",
  "sagemaker:createModel",
  ...Object.keys(SYNC_JOBS),
]);

/** Step Functions rejects whitespace, brackets, wildcards, punctuation and control characters. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what the pattern excludes
const EXECUTION_NAME = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]{1,80}$/u;

export class StepFunctionsService implements JsonService {
  readonly contentType = "application/x-amz-json-1.0";
  private readonly root: string;
  private readonly machines = new Map<string, Machine>();
  private readonly executions = new Map<string, Execution>();
  private readonly live = new Map<string, Live>();
  /** Definitions that have passed the interpreter's validation (it throws on an invalid one). */
  private readonly validatedDefinitions = new Set<string>();

  constructor(
    stateDir: string,
    private readonly region: string,
    private readonly account: string,
    private readonly sagemaker: SageMakerService,
    private readonly sns: Pick<SnsService, "publish">,
    /** Where status-change events go (EventBridge, in the local cloud). */
    private readonly emit: EventSink,
    /** Runs Lambda tasks; without it every Lambda task fails with `Lambda.ResourceNotFoundException`. */
    private readonly invokeFunction: FunctionInvoker = noFunctions,
  ) {
    this.root = join(stateDir, "stepfunctions");
    for (const machine of Object.values(
      readJsonFile(join(this.root, "machines.json"), {}) as Record<string, Machine>,
    )) {
      this.machines.set(machine.stateMachineArn, machine);
    }
    const folder = join(this.root, "executions");
    mkdirSync(folder, { recursive: true });
    for (const file of readdirSync(folder)) {
      if (!file.endsWith(".json")) continue;
      const execution = readJsonFile(join(folder, file), undefined) as Execution | undefined;
      if (!execution) continue;
      execution.history = this.loadHistory(execution);
      this.executions.set(execution.executionArn, execution);
    }
  }

  /**
   * An execution is kept as two files: its own fields (`<name>.json`, rewritten when they change:
   * at its start and its end) and its history, one event a line (`<name>.history.jsonl`,
   * appended). Rewriting the whole history on every event cost time that grew with its square.
   */
  private executionFile(execution: Execution, suffix: ".json" | ".history.jsonl"): string {
    const name = encodeURIComponent(execution.executionArn.split(":").slice(-2).join(":"));
    return join(this.root, "executions", `${name}${suffix}`);
  }

  private loadHistory(execution: Execution): HistoryEvent[] {
    const path = this.executionFile(execution, ".history.jsonl");
    if (!existsSync(path)) {
      // A state folder from before the history had its own file: move it there.
      const history = Array.isArray(execution.history) ? execution.history : [];
      writeFileAtomic(path, history.map((event) => `${JSON.stringify(event)}\n`).join(""));
      return history;
    }
    const events: HistoryEvent[] = [];
    for (const line of readFileSync(path, "utf8").split("\n")) {
      if (line.length === 0) continue;
      try {
        events.push(JSON.parse(line) as HistoryEvent);
      } catch {
        /* a line cut short by a crash */
      }
    }
    return events;
  }

  /** Executions that were running when the previous local cloud stopped can never finish: fail them and say so. */
  reconcileAfterRestart(): string[] {
    const failed: string[] = [];
    for (const execution of this.executions.values()) {
      if (execution.status !== "RUNNING") continue;
      this.end(execution, "FAILED", {
        error: "States.Runtime",
        cause:
          "local cloud restarted: the execution was running when the previous local cloud process stopped",
      });
      failed.push(execution.executionArn);
    }
    return failed;
  }

  readonly operations = {
    CreateStateMachine: (input: Record<string, unknown>) => {
      const machine = this.createStateMachine(
        requireString(input, "name"),
        requireString(input, "definition"),
        requireString(input, "roleArn"),
        optionalString(input, "type") ?? "STANDARD",
      );
      return {
        stateMachineArn: machine.stateMachineArn,
        creationDate: machine.creationDate / 1000,
      };
    },
    DescribeStateMachine: (input: Record<string, unknown>) => {
      const m = this.machine(requireString(input, "stateMachineArn"));
      return {
        stateMachineArn: m.stateMachineArn,
        name: m.name,
        status: "ACTIVE",
        definition: m.definition,
        roleArn: m.roleArn,
        type: m.type,
        creationDate: m.creationDate / 1000,
      };
    },
    ListStateMachines: () => ({
      stateMachines: [...this.machines.values()].map((m) => ({
        stateMachineArn: m.stateMachineArn,
        name: m.name,
        type: m.type,
        creationDate: m.creationDate / 1000,
      })),
    }),
    StartExecution: (input: Record<string, unknown>) => {
      const e = this.startExecution(
        requireString(input, "stateMachineArn"),
        optionalString(input, "name") ?? randomUUID(),
        optionalString(input, "input") ?? "{}",
      );
      return { executionArn: e.executionArn, startDate: e.startDate / 1000 };
    },
    DescribeExecution: (input: Record<string, unknown>) =>
      describeExecution(this.execution(requireString(input, "executionArn"))),
    ListExecutions: (input: Record<string, unknown>) => this.listExecutions(input),
    StopExecution: (input: Record<string, unknown>) => {
      const e = this.stopExecution(
        requireString(input, "executionArn"),
        optionalString(input, "error"),
        optionalString(input, "cause"),
      );
      return { stopDate: (e.stopDate ?? Date.now()) / 1000 };
    },
    GetExecutionHistory: (input: Record<string, unknown>) => {
      const e = this.execution(requireString(input, "executionArn"));
      const events = input.reverseOrder === true ? [...e.history].reverse() : e.history;
      const offset = Number(optionalString(input, "nextToken") ?? 0);
      const max = optionalNumber(input, "maxResults") || 1000;
      const page = events
        .slice(offset, offset + max)
        .map((event) => ({ ...event, timestamp: event.timestamp / 1000 }));
      return {
        events: page,
        ...(offset + max < events.length ? { nextToken: String(offset + max) } : {}),
      };
    },
  };

  createStateMachine(name: string, definition: string, roleArn: string, type: string): Machine {
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(name))
      throw new AwsError("InvalidName", `Invalid State Machine Name: '${name}'`);
    validateDefinition(definition);
    checkDefinition(definition);
    const stateMachineArn = `arn:aws:states:${this.region}:${this.account}:stateMachine:${name}`;
    const existing = this.machines.get(stateMachineArn);
    if (existing && existing.definition !== definition && this.hasRunning(stateMachineArn)) {
      throw new AwsError(
        "StateMachineAlreadyExists",
        `State Machine Already Exists: '${stateMachineArn}'`,
      );
    }
    // Re-creating from the template (every start) replaces the definition, like a stack update.
    const machine: Machine = {
      stateMachineArn,
      name,
      definition,
      roleArn,
      type,
      creationDate: existing?.creationDate ?? Date.now(),
    };
    this.machines.set(stateMachineArn, machine);
    writeJsonAtomic(join(this.root, "machines.json"), Object.fromEntries(this.machines));
    return machine;
  }

  startExecution(stateMachineArn: string, name: string, input: string): Execution {
    const machine = this.machine(stateMachineArn);
    if (!EXECUTION_NAME.test(name))
      throw new AwsError("InvalidName", `Invalid Execution Name: '${name}'`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(input);
    } catch {
      throw new AwsError(
        "InvalidExecutionInput",
        "Invalid State Machine Execution Input: the input is not valid JSON",
      );
    }
    const executionArn = `arn:aws:states:${this.region}:${this.account}:execution:${machine.name}:${name}`;
    const existing = this.executions.get(executionArn);
    if (existing) {
      // AWS: the same name and input while running is idempotent; anything else is a conflict.
      if (existing.status === "RUNNING" && existing.input === input) return existing;
      throw new AwsError("ExecutionAlreadyExists", `Execution Already Exists: '${executionArn}'`);
    }
    const execution: Execution = {
      executionArn,
      stateMachineArn,
      name,
      status: "RUNNING",
      startDate: Date.now(),
      input,
      history: [],
    };
    this.executions.set(executionArn, execution);
    this.record(execution, "ExecutionStarted", {
      executionStartedEventDetails: { input, roleArn: machine.roleArn },
    });
    this.statusEvent(execution);
    guardExecution(() => this.run(machine, execution, parsed), {
      isRunning: () => execution.status === "RUNNING",
      fail: (cause) => this.end(execution, "FAILED", { error: "States.Runtime", cause }),
    });
    return execution;
  }

  stopExecution(executionArn: string, error?: string, cause?: string): Execution {
    const execution = this.execution(executionArn);
    if (execution.status !== "RUNNING") return execution;
    const live = this.live.get(executionArn);
    this.end(execution, "ABORTED", { ...(error ? { error } : {}), ...(cause ? { cause } : {}) });
    if (live) {
      live.abort();
      // aws-local-stepfunctions does not stop a running task: stop its SageMaker job ourselves.
      for (const job of live.jobs) {
        const [kind, name] = job.split(":") as [JobKind, string];
        try {
          this.sagemaker.stopJob(kind, name);
        } catch {
          /* already ended */
        }
      }
    }
    return execution;
  }

  describe(executionArn: string): Record<string, unknown> {
    return describeExecution(this.execution(executionArn));
  }

  private run(machine: Machine, execution: Execution, input: unknown): Promise<void> {
    const definition = JSON.parse(machine.definition) as StateMachineDefinition;
    const jobs = new Set<string>();
    const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
    for (const [stateName, state] of allStates(definition)) {
      if (state.Type !== "Task") continue;
      // The library's default task timeout is 60 s; AWS has none. Keep AWS's meaning.
      if (state.TimeoutSeconds === undefined && state.TimeoutSecondsPath === undefined)
        state.TimeoutSeconds = FOREVER_SECONDS;
      const resource = String(state.Resource);
      handlers[stateName] = (taskInput) =>
        this.task(execution, stateName, resource, taskInput, jobs);
    }
    // The library validates the definition (asl-validator, which compiles its JSON schema: a
    // quarter of a second of CPU) each time one is built. Validate each definition once.
    const validated =
      this.validatedDefinitions.has(machine.definition) || isValidDefinition(machine.definition);
    const stateMachine = new StateMachine(definition, {
      validationOptions: { checkArn: false, ...(validated ? { noValidate: true } : {}) },
    });
    this.validatedDefinitions.add(machine.definition);
    const context = {
      Execution: {
        Id: execution.executionArn,
        Name: execution.name,
        StartTime: new Date(execution.startDate).toISOString(),
        Input: input,
        RoleArn: machine.roleArn,
      },
      StateMachine: { Id: machine.stateMachineArn, Name: machine.name },
    };
    const started = stateMachine.run(input as never, {
      overrides: { taskResourceLocalHandlers: handlers as never },
      context: context as never,
    });
    this.live.set(execution.executionArn, { abort: started.abort, jobs });
    this.followEvents(execution, started.eventLogs).catch(() => {});
    // Let the last StateExited event land in the history before the execution ends.
    const settled = started.result.finally(() => new Promise((resolve) => setImmediate(resolve)));
    return settled.then(
      (output) => this.end(execution, "SUCCEEDED", { output: JSON.stringify(output ?? null) }),
      (error: unknown) => {
        if (error instanceof ExecutionAbortedError) return;
        if (error instanceof ExecutionTimeoutError)
          return this.end(execution, "TIMED_OUT", {
            error: "States.Timeout",
            cause: "The execution ran past its TimeoutSeconds.",
          });
        const cause =
          error instanceof ExecutionError && error.cause instanceof Error
            ? error.cause
            : error instanceof Error
              ? error
              : new Error(String(error));
        this.end(execution, "FAILED", { error: cause.name, cause: cause.message });
      },
    );
  }

  private async followEvents(execution: Execution, events: AsyncGenerator<unknown>): Promise<void> {
    for await (const event of events) {
      if (execution.status !== "RUNNING" || !isRecord(event) || !isRecord(event.state)) continue;
      const state = event.state;
      const prefix = String(state.type);
      if (event.type === "StateEntered") {
        this.record(execution, `${prefix}StateEntered`, {
          stateEnteredEventDetails: {
            name: state.name,
            input: JSON.stringify(state.input ?? null),
          },
        });
      } else if (event.type === "StateExited") {
        this.record(execution, `${prefix}StateExited`, {
          stateExitedEventDetails: {
            name: state.name,
            output: JSON.stringify(state.output ?? null),
          },
        });
      }
    }
  }

  /** One Task state, served by its Resource with AWS's result and error shapes. */
  private async task(
    execution: Execution,
    stateName: string,
    resource: string,
    input: unknown,
    jobs: Set<string>,
  ): Promise<unknown> {
    const [resourceType, resourceName] = integration(resource);
    // The library reports StateEntered through an async generator: let it land first, so the
    // history reads in AWS's order (entered, scheduled, started, then the outcome).
    await new Promise((resolve) => setImmediate(resolve));
    this.record(execution, "TaskScheduled", {
      taskScheduledEventDetails: {
        resourceType,
        resource: resourceName,
        region: this.region,
        parameters: JSON.stringify(input),
      },
    });
    this.record(execution, "TaskStarted", {
      taskStartedEventDetails: { resourceType, resource: resourceName },
    });
    try {
      const output = await this.callIntegration(
        execution,
        resource,
        resourceType,
        resourceName,
        input,
        jobs,
      );
      this.record(execution, "TaskSucceeded", {
        taskSucceededEventDetails: {
          resourceType,
          resource: resourceName,
          output: JSON.stringify(output),
        },
      });
      return output;
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      this.record(execution, "TaskFailed", {
        taskFailedEventDetails: {
          resourceType,
          resource: resourceName,
          error: failure.name,
          cause: failure.message,
          state: stateName,
        },
      });
      throw failure;
    }
  }

  private async callIntegration(
    execution: Execution,
    resource: string,
    resourceType: string,
    resourceName: string,
    input: unknown,
    jobs: Set<string>,
  ): Promise<unknown> {
    const params = isRecord(input) ? input : {};
    if (resource.startsWith("arn:aws:lambda:")) return this.invokeLambda(resource, input, false);
    const key = `${resourceType}:${resourceName}`;
    if (key === "lambda:invoke")
      return this.invokeLambda(String(params.FunctionName), params.Payload ?? {}, true);
    const syncKind = SYNC_JOBS[key];
    if (syncKind) return this.runJob(execution, syncKind, params, jobs);
    if (key === "sagemaker:createModel") return this.sagemakerCall("CreateModel", params);
    if (key === "sns:publish") {
      try {
        return {
          MessageId: await this.sns.publish(
            String(params.TopicArn),
            String(params.Message),
            typeof params.Subject === "string" ? params.Subject : undefined,
          ),
        };
      } catch (error) {
        throw serviceError("SNS", error);
      }
    }
    throw named("States.Runtime", `the local cloud does not serve the task resource ${resource}`);
  }

  private async invokeLambda(
    functionName: string,
    payload: unknown,
    wrapped: boolean,
  ): Promise<unknown> {
    let result: InvokeResult;
    try {
      result = await this.invokeFunction(functionName, payload);
    } catch (error) {
      throw named(
        error instanceof AwsError && error.code === "ResourceNotFoundException"
          ? "Lambda.ResourceNotFoundException"
          : "Lambda.ServiceException",
        error instanceof Error ? error.message : String(error),
      );
    }
    if (result.error) {
      throw named(
        result.error.errorType || "Lambda.Unknown",
        JSON.stringify({
          errorType: result.error.errorType,
          errorMessage: result.error.errorMessage,
          trace: result.error.trace ?? [],
        }),
      );
    }
    if (!wrapped) return result.payload;
    return {
      ExecutedVersion: "$LATEST",
      Payload: result.payload,
      StatusCode: 200,
      SdkHttpMetadata: { HttpStatusCode: 200 },
      SdkResponseMetadata: { RequestId: randomUUID() },
    };
  }

  private sagemakerCall(operation: string, params: Record<string, unknown>): unknown {
    const run = this.sagemaker.operations[operation];
    try {
      if (!run)
        throw new AwsError("UnknownOperationException", `SageMaker ${operation} is not served`);
      this.sagemaker.validate(operation, params);
      return run(params);
    } catch (error) {
      throw serviceError("SageMaker", error);
    }
  }

  /** `.sync`: create the job, wait for its end, and answer with its Describe output (or States.TaskFailed). */
  private async runJob(
    execution: Execution,
    kind: JobKind,
    params: Record<string, unknown>,
    jobs: Set<string>,
  ): Promise<unknown> {
    const name = String(params[`${kind}JobName`]);
    // A stopped execution starts no more jobs (the interpreter may still call a task handler).
    if (execution.status !== "RUNNING")
      throw named("States.Runtime", "the execution ended before its job was created");
    this.sagemakerCall(`Create${kind}Job`, params);
    const key = `${kind}:${name}`;
    jobs.add(key);
    try {
      for (;;) {
        const changed = this.sagemaker.changed();
        const status = this.sagemaker.status(kind, name);
        if (status === "Completed") return withMillis(this.sagemaker.describe(kind, name));
        if (status === "Failed" || status === "Stopped") {
          throw named(
            "States.TaskFailed",
            JSON.stringify(withMillis(this.sagemaker.describe(kind, name))),
          );
        }
        if (execution.status !== "RUNNING") {
          // Stopped while the job ran: the job is stopped with it, as Step Functions does.
          try {
            this.sagemaker.stopJob(kind, name);
          } catch {
            /* it ended meanwhile */
          }
          throw named("States.Runtime", "the execution ended while its job was running");
        }
        await changed;
      }
    } finally {
      jobs.delete(key);
    }
  }

  private listExecutions(input: Record<string, unknown>): unknown {
    const machine = requireString(input, "stateMachineArn");
    this.machine(machine);
    const filter = optionalString(input, "statusFilter");
    const all = [...this.executions.values()]
      .filter((e) => e.stateMachineArn === machine && (!filter || e.status === filter))
      .sort((a, b) => b.startDate - a.startDate);
    const offset = Number(optionalString(input, "nextToken") ?? 0);
    const max = optionalNumber(input, "maxResults") || 100;
    const page = all.slice(offset, offset + max).map((e) => ({
      executionArn: e.executionArn,
      stateMachineArn: e.stateMachineArn,
      name: e.name,
      status: e.status,
      startDate: e.startDate / 1000,
      ...(e.stopDate ? { stopDate: e.stopDate / 1000 } : {}),
    }));
    return {
      executions: page,
      ...(offset + max < all.length ? { nextToken: String(offset + max) } : {}),
    };
  }

  private end(
    execution: Execution,
    status: Exclude<Status, "RUNNING">,
    result: { output?: string; error?: string; cause?: string },
  ): void {
    if (execution.status !== "RUNNING") return;
    Object.assign(execution, result, { status, stopDate: Date.now() });
    const type = {
      SUCCEEDED: "ExecutionSucceeded",
      FAILED: "ExecutionFailed",
      TIMED_OUT: "ExecutionTimedOut",
      ABORTED: "ExecutionAborted",
    }[status];
    const details =
      status === "SUCCEEDED"
        ? { executionSucceededEventDetails: { output: result.output } }
        : {
            [`${type[0]?.toLowerCase()}${type.slice(1)}EventDetails`]: {
              error: result.error,
              cause: result.cause,
            },
          };
    this.record(execution, type, details);
    this.live.delete(execution.executionArn);
    this.statusEvent(execution);
  }

  /** EventBridge's "Step Functions Execution Status Change" event. */
  private statusEvent(e: Execution): void {
    this.emit({
      version: "0",
      id: randomUUID(),
      "detail-type": "Step Functions Execution Status Change",
      source: "aws.states",
      account: this.account,
      time: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
      region: this.region,
      resources: [e.executionArn],
      detail: {
        executionArn: e.executionArn,
        stateMachineArn: e.stateMachineArn,
        name: e.name,
        status: e.status,
        startDate: e.startDate,
        stopDate: e.stopDate ?? null,
        input: e.input,
        output: e.output ?? null,
        inputDetails: { included: true },
        outputDetails: e.output === undefined ? null : { included: true },
        error: e.error ?? null,
        cause: e.cause ?? null,
      },
    });
  }

  private record(execution: Execution, type: string, details: Record<string, unknown>): void {
    const id = execution.history.length + 1;
    const event: HistoryEvent = {
      id,
      previousEventId: id - 1,
      timestamp: Date.now(),
      type,
      ...details,
    };
    execution.history.push(event);
    // The execution's own fields change only with ExecutionStarted and its end event.
    if (type.startsWith("Execution"))
      writeJsonAtomic(this.executionFile(execution, ".json"), { ...execution, history: undefined });
    appendFileSync(this.executionFile(execution, ".history.jsonl"), `${JSON.stringify(event)}\n`);
  }

  private hasRunning(stateMachineArn: string): boolean {
    return [...this.executions.values()].some(
      (e) => e.stateMachineArn === stateMachineArn && e.status === "RUNNING",
    );
  }

  private machine(arn: string): Machine {
    const machine = this.machines.get(arn);
    if (!machine)
      throw new AwsError("StateMachineDoesNotExist", `State Machine Does Not Exist: '${arn}'`);
    return machine;
  }

  private execution(arn: string): Execution {
    const execution = this.executions.get(arn);
    if (!execution)
      throw new AwsError("ExecutionDoesNotExist", `Execution Does Not Exist: '${arn}'`);
    return execution;
  }
}

function describeExecution(e: Execution): Record<string, unknown> {
  return {
    executionArn: e.executionArn,
    stateMachineArn: e.stateMachineArn,
    name: e.name,
    status: e.status,
    startDate: e.startDate / 1000,
    ...(e.stopDate ? { stopDate: e.stopDate / 1000 } : {}),
    input: e.input,
    inputDetails: { included: true },
    ...(e.output === undefined ? {} : { output: e.output, outputDetails: { included: true } }),
    ...(e.error === undefined ? {} : { error: e.error }),
    ...(e.cause === undefined ? {} : { cause: e.cause }),
  };
}

/**
 * The local interpreter runs JSONPath only and gives the context object `$$.Execution` and,
 * inside a Map's item processor, `$$.Map.Item.Index` / `$$.Map.Item.Value`: a definition that
 * needs more would silently do the wrong thing, so it is refused here.
 */
export function checkDefinition(text: string): void {
  let definition: unknown;
  try {
    definition = JSON.parse(text);
  } catch {
    throw new AwsError(
      "InvalidDefinition",
      "Invalid State Machine Definition: the definition is not valid JSON",
    );
  }
  if (
    !isRecord(definition) ||
    !isRecord(definition.States) ||
    typeof definition.StartAt !== "string"
  ) {
    throw new AwsError(
      "InvalidDefinition",
      "Invalid State Machine Definition: 'StartAt' and 'States' are required",
    );
  }
  if (text.includes('"JSONata"') || /\{%[\s\S]*%\}/.test(text)) {
    throw new AwsError(
      "InvalidDefinition",
      'Invalid State Machine Definition: the local cloud runs JSONPath only; this definition uses JSONata (QueryLanguage "JSONata" or {% %} expressions)',
    );
  }
  const contextUse = /\$\$\.(?!Execution\b|Map\.Item\.(?:Index|Value)\b)[A-Za-z.]+/.exec(text);
  if (contextUse) {
    throw new AwsError(
      "InvalidDefinition",
      `Invalid State Machine Definition: the local cloud's context object has $$.Execution and $$.Map.Item only; the definition uses ${contextUse[0]}`,
    );
  }
  for (const [name, state] of allStates(definition)) {
    if (state.Type !== "Task") continue;
    const resource = String(state.Resource ?? "");
    const [type, action] = integration(resource);
    if (resource.startsWith("arn:aws:lambda:") || SERVED_TASKS.has(`${type}:${action}`)) continue;
    throw new AwsError(
      "InvalidDefinition",
      `Invalid State Machine Definition: state ${name} uses ${resource}, which the local cloud does not serve (it serves Lambda functions, ${[...SERVED_TASKS].join(", ")})`,
    );
  }
}

type StateRecord = Record<string, unknown> & {
  Type?: unknown;
  Resource?: unknown;
  TimeoutSeconds?: unknown;
  TimeoutSecondsPath?: unknown;
};

function allStates(definition: unknown): [string, StateRecord][] {
  if (!isRecord(definition) || !isRecord(definition.States)) return [];
  return Object.entries(definition.States).flatMap(([name, state]) => {
    if (!isRecord(state)) return [];
    const nested = [
      ...(isRecord(state.Iterator) ? allStates(state.Iterator) : []),
      ...(isRecord(state.ItemProcessor) ? allStates(state.ItemProcessor) : []),
      ...(Array.isArray(state.Branches) ? state.Branches.flatMap(allStates) : []),
    ];
    return [[name, state as StateRecord], ...nested];
  });
}

/** `arn:aws:states:::sagemaker:createTrainingJob.sync` → ['sagemaker', 'createTrainingJob.sync']. */
function integration(resource: string): [string, string] {
  const m = /^arn:aws:states:[^:]*:[^:]*:([^:]+):(.+)$/.exec(resource);
  if (m?.[1] && m[2]) return [m[1], m[2]];
  if (resource.startsWith("arn:aws:lambda:")) return ["lambda", "invoke"];
  return ["unknown", resource];
}

function named(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

/** A service's API error as Step Functions names it: `SageMaker.AmazonSageMakerException` for validation, else `SageMaker.<Code>Exception`. */
function serviceError(service: string, error: unknown): Error {
  if (!(error instanceof AwsError))
    return named(
      `${service}.${service === "SageMaker" ? "AmazonSageMakerException" : "SnsException"}`,
      String(error),
    );
  const code = error.code.endsWith("Exception") ? error.code : `${error.code}Exception`;
  const name =
    error.code === "ValidationException"
      ? `${service}.Amazon${service}Exception`
      : `${service}.${code}`;
  return named(
    name,
    `${error.message} (Service: ${service}, Status Code: ${error.status}, Error Code: ${error.code})`,
  );
}

/** SageMaker answers epoch seconds; Step Functions' integrations give epoch milliseconds. */
function withMillis(describe: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(describe), (key, value: unknown) =>
    typeof value === "number" && /(Time|Date)$/.test(key) ? Math.round(value * 1000) : value,
  ) as Record<string, unknown>;
}
