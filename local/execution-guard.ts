// Nothing stays RUNNING with no state running: whatever becomes of the interpreter's run (it
// settles without the execution having ended, rejects with something the service did not
// expect, or throws before it starts), the execution ends FAILED with a cause naming what
// happened, through the same path as any other failure (history event, status-change event).

/** The execution as the guard sees it: whether it still runs, and how to fail it. */
export interface GuardedExecution {
  isRunning(): boolean;
  fail(cause: string): void;
}

/** Runs `start` (the interpreter's run, settled once the execution should have ended) and guards its outcome. */
export function guardExecution(start: () => Promise<unknown>, execution: GuardedExecution): void {
  const failIfRunning = (cause: string) => {
    if (execution.isRunning()) execution.fail(cause);
  };
  let settled: Promise<unknown>;
  try {
    settled = start();
  } catch (error) {
    failIfRunning(`the local interpreter could not start the execution: ${describe(error)}`);
    return;
  }
  settled
    .then(
      () =>
        failIfRunning(
          "the local interpreter stopped without ending the execution: no state is running and it neither succeeded, failed nor was stopped",
        ),
      (error: unknown) =>
        failIfRunning(`the local interpreter failed unexpectedly: ${describe(error)}`),
    )
    .catch(() => {
      /* failing it threw too (the state folder is gone): nothing is left to record it in */
    });
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
