/** Starting executions of the training pipeline, idempotently by name. */
import { type SFNClient, StartExecutionCommand, StopExecutionCommand } from "@aws-sdk/client-sfn";
import type { Executions } from "../app/ports.js";

export class PipelineStarter implements Executions {
  constructor(
    private readonly sfn: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  /**
   * Starts the execution named `name`. The same name and input again answers the running
   * execution, and ExecutionAlreadyExists means it ran already: both count as started.
   */
  async start(name: string, input: unknown): Promise<string> {
    const arn = `${this.stateMachineArn.replace(":stateMachine:", ":execution:")}:${name}`;
    try {
      const started = await this.sfn.send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn,
          name,
          input: JSON.stringify(input),
        }),
      );
      return started.executionArn ?? arn;
    } catch (error) {
      if (error instanceof Error && error.name === "ExecutionAlreadyExists") return arn;
      throw error;
    }
  }

  /** Stops an execution; no Catch runs, so the status-change event records the run as STOPPED. */
  async stop(executionArn: string, cause: string): Promise<void> {
    try {
      await this.sfn.send(new StopExecutionCommand({ executionArn, cause }));
    } catch (error) {
      // Already ended between the caller's read and this call: nothing left to stop.
      if (error instanceof Error && error.name === "ExecutionDoesNotExist") return;
      throw error;
    }
  }
}
