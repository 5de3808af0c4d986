import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { definitionProblems, validateDefinition } from "../../local/asl-definition.js";
import { guardExecution } from "../../local/execution-guard.js";
import { StepFunctionsService } from "../../local/stepfunctions.js";

const STATEMACHINES = resolve(import.meta.dirname, "..", "..", "statemachines");

const pass = (next: string) => ({ Type: "Pass", Next: next });
const end = { Type: "Pass", End: true };

describe("state machine definitions", () => {
  it.each(readdirSync(STATEMACHINES).filter((f) => f.endsWith(".asl.json")))(
    "accepts the project's own %s",
    (file) => {
      expect(definitionProblems(readFileSync(join(STATEMACHINES, file), "utf8"))).toEqual([]);
    },
  );

  it.each<[string, unknown, string[]]>([
    [
      "a state with neither Next nor End",
      { StartAt: "A", States: { A: pass("B"), B: { Type: "Pass" } } },
      [
        'MISSING_TRANSITION_TARGET: State "B" is not an end state and does not have a Next field at /States/B',
      ],
    ],
    [
      "a Next naming no state",
      { StartAt: "A", States: { A: pass("Nope") } },
      ["MISSING_TRANSITION_TARGET: Missing 'Next' target: Nope at /States/A/Next"],
    ],
    [
      "a Choice rule and Default naming no state",
      {
        StartAt: "A",
        States: {
          A: {
            Type: "Choice",
            Choices: [{ Variable: "$.x", BooleanEquals: true, Next: "Z" }],
            Default: "Y",
          },
        },
      },
      [
        "MISSING_TRANSITION_TARGET: Missing 'Next' target: Z at /States/A/Choices[0]/Next",
        "MISSING_TRANSITION_TARGET: Missing 'Default' target: Y at /States/A/Default",
      ],
    ],
    [
      "a state nothing reaches",
      { StartAt: "A", States: { A: end, B: end } },
      ['MISSING_TRANSITION_TARGET: State "B" is not reachable. at /States/B'],
    ],
    [
      "a StartAt naming no state",
      { StartAt: "X", States: { A: end } },
      ["MISSING_TRANSITION_TARGET: Missing 'StartAt' target: X at /StartAt"],
    ],
    [
      "no StartAt",
      { States: { A: end } },
      ["SCHEMA_VALIDATION_FAILED: These fields are required: [StartAt] at /"],
    ],
    [
      "a Map's inner state jumping out of the Map",
      {
        StartAt: "M",
        States: {
          M: {
            Type: "Map",
            ItemProcessor: { StartAt: "I", States: { I: pass("M") } },
            End: true,
          },
        },
      },
      [
        "MISSING_TRANSITION_TARGET: Missing 'Next' target: M at /States/M/ItemProcessor/States/I/Next",
      ],
    ],
    [
      "a loop with no way out",
      { StartAt: "A", States: { A: pass("B"), B: pass("A") } },
      ["MISSING_END_STATE: Workflow has no terminal state at /"],
    ],
    [
      "a state name used in two scopes",
      {
        StartAt: "A",
        States: {
          A: { Type: "Parallel", Branches: [{ StartAt: "A", States: { A: end } }], End: true },
        },
      },
      [
        "DUPLICATE_STATE_NAME: Duplicate State name: A at /States/A/Branches[0]/States/A (also at /States/A)",
      ],
    ],
  ])("finds %s, with its path", (_, definition, problems) => {
    expect(definitionProblems(JSON.stringify(definition))).toEqual(problems);
  });

  it("leaves field-level errors to asl-validator's schema of the language", () => {
    const problems = definitionProblems(
      JSON.stringify({ StartAt: "A", States: { A: { Type: "Wait", End: true } } }),
    );

    expect(problems.length).toBeGreaterThan(0);
    expect(problems.every((p) => /^[A-Z_]+: /.test(p))).toBe(true);
  });

  it("refuses an invalid definition with InvalidDefinition, all problems in AWS's one message", () => {
    const definition = JSON.stringify({ StartAt: "A", States: { A: pass("Nope"), B: end } });

    expect(() => validateDefinition(definition)).toThrow(
      expect.objectContaining({
        code: "InvalidDefinition",
        message: `Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: Nope at /States/A/Next, MISSING_TRANSITION_TARGET: State "B" is not reachable. at /States/B'`,
      }),
    );
  });
});

describe("an execution's guard", () => {
  const guarded = () => {
    let running = true;
    const fail = vi.fn((_cause: string) => {
      running = false;
    });
    return { execution: { isRunning: () => running, fail }, fail };
  };

  it("fails an execution whose interpreter settled without ending it", async () => {
    const { execution, fail } = guarded();

    guardExecution(async () => {}, execution);
    await vi.waitFor(() => expect(fail).toHaveBeenCalled());

    expect(fail.mock.calls[0]?.[0]).toContain("stopped without ending the execution");
  });

  it("fails an execution whose interpreter threw before it started, naming the error", () => {
    const { execution, fail } = guarded();

    guardExecution(() => {
      throw new TypeError("Cannot read properties of undefined (reading 'Type')");
    }, execution);

    expect(fail).toHaveBeenCalledWith(
      "the local interpreter could not start the execution: TypeError: Cannot read properties of undefined (reading 'Type')",
    );
  });

  it("leaves an execution that ended on its own alone", async () => {
    const { execution, fail } = guarded();
    const ended = { isRunning: () => false, fail: execution.fail };

    guardExecution(async () => {
      throw new Error("late");
    }, ended);
    await new Promise((resolve) => setImmediate(resolve));

    expect(fail).not.toHaveBeenCalled();
  });
});

describe("the local Step Functions", () => {
  it("fails, rather than leaves RUNNING, an execution of a stored machine the interpreter cannot run", async () => {
    // A machine an older local cloud accepted before definitions were validated at creation.
    const stateDir = mkdtempSync(join(tmpdir(), "modeldrop-sfn-"));
    const arn = "arn:aws:states:us-east-1:000000000000:stateMachine:stored";
    const definition = { StartAt: "A", States: { A: pass("B"), B: { Type: "Pass" } } };
    mkdirSync(join(stateDir, "stepfunctions"), { recursive: true });
    writeFileSync(
      join(stateDir, "stepfunctions", "machines.json"),
      JSON.stringify({
        [arn]: {
          stateMachineArn: arn,
          name: "stored",
          definition: JSON.stringify(definition),
          roleArn: "arn:aws:iam::000000000000:role/r",
          type: "STANDARD",
          creationDate: 0,
        },
      }),
    );
    const events: Record<string, unknown>[] = [];
    // Pass states only: SageMaker and SNS are never called.
    const service = new StepFunctionsService(
      stateDir,
      "us-east-1",
      "000000000000",
      {} as never,
      {} as never,
      (event) => events.push(event),
    );

    const execution = service.startExecution(arn, "run-1", "{}");
    await vi.waitFor(() => expect(execution.status).not.toBe("RUNNING"));

    expect(service.describe(execution.executionArn)).toMatchObject({
      status: "FAILED",
      error: "States.Runtime",
      cause: expect.stringContaining("the local interpreter"),
    });
    expect(events.map((e) => (e.detail as { status: string }).status)).toEqual([
      "RUNNING",
      "FAILED",
    ]);
  });
});
