// A state machine definition checked as Step Functions' CreateStateMachine checks it, so a
// definition AWS would refuse is refused here too (InvalidDefinition), instead of being accepted
// and then hanging or failing oddly when an execution reaches the broken state.
//
// Two passes. The first walks the states the way AWS's validator reports them: a state without
// Next or End, a Next, Default or Catch target that does not exist in the state's own scope, a
// state nothing reaches, a scope without a terminal state, a state name used twice, each with
// its path (`MISSING_TRANSITION_TARGET: Missing 'Next' target: X at /States/A/Next`). The
// second, run when the first finds nothing, is asl-validator's JSON schema of the language
// (field types, state types, mutually exclusive fields). asl-validator alone also catches the
// first pass's problems, but without paths, in words AWS does not use, and with one name space
// for all scopes (a Next into a Map's inner states passes its reachability check).
import { createRequire } from "node:module";
import { AwsError, isRecord } from "./http.js";

interface AslValidatorError {
  "Error code": string;
  Message: string;
}
type AslValidator = (
  definition: unknown,
  options: { checkArn: boolean; checkPaths: boolean },
) => { isValid: boolean; errors: AslValidatorError[] };

const require = createRequire(import.meta.url);
const aslValidator = require("asl-validator") as AslValidator;

const WITH_TRANSITION = new Set(["Task", "Pass", "Wait", "Parallel", "Map"]);
const TERMINAL = new Set(["Succeed", "Fail"]);
const STATE_TYPES = new Set([...WITH_TRANSITION, ...TERMINAL, "Choice"]);

/** Definitions already found valid: asl-validator compiles its schema on every call (~¼ s of CPU). */
const valid = new Set<string>();

/**
 * Throws AwsError InvalidDefinition, listing every problem as AWS does
 * (`Invalid State Machine Definition: 'CODE: message at /path, …'`), when Step Functions
 * would refuse the definition.
 */
export function validateDefinition(text: string): void {
  if (valid.has(text)) return;
  const problems = definitionProblems(text);
  if (problems.length > 0)
    throw new AwsError(
      "InvalidDefinition",
      `Invalid State Machine Definition: '${problems.join(", ")}'`,
    );
  if (valid.size >= 100) valid.clear();
  valid.add(text);
}

/** Whether `validateDefinition` found this definition valid in this process. */
export function isValidDefinition(text: string): boolean {
  return valid.has(text);
}

/** The problems AWS would report for the definition, empty when it is valid. */
export function definitionProblems(text: string): string[] {
  let definition: unknown;
  try {
    definition = JSON.parse(text);
  } catch (error) {
    return [`INVALID_JSON_DESCRIPTION: ${error instanceof Error ? error.message : String(error)}`];
  }
  if (!isRecord(definition))
    return ["SCHEMA_VALIDATION_FAILED: the definition must be a JSON object at /"];
  const problems: string[] = [];
  checkScope(definition, "", problems, new Map());
  if (problems.length > 0) return problems;
  // asl-validator writes a QueryLanguage into every state: give it a copy.
  const result = aslValidator(structuredClone(definition), { checkArn: false, checkPaths: true });
  return result.errors.map((error) => `${error["Error code"]}: ${error.Message.trim()}`);
}

/**
 * One scope: the machine itself, a Parallel branch or a Map's item processor. Transitions stay
 * inside their scope; state names are unique across all of them.
 */
function checkScope(
  scope: Record<string, unknown>,
  path: string,
  problems: string[],
  seen: Map<string, string>,
): void {
  const at = path || "/";
  const before = problems.length;
  const missing = ["StartAt", "States"].filter((field) => scope[field] === undefined);
  if (missing.length > 0) {
    problems.push(`SCHEMA_VALIDATION_FAILED: These fields are required: [${missing}] at ${at}`);
    return;
  }
  const { StartAt: startAt, States: states } = scope;
  if (typeof startAt !== "string" || !isRecord(states)) {
    problems.push(
      `SCHEMA_VALIDATION_FAILED: StartAt must be a string and States an object at ${at}`,
    );
    return;
  }
  const names = Object.keys(states);
  if (names.length === 0) {
    problems.push(
      `SCHEMA_VALIDATION_FAILED: States must name at least one state at ${path}/States`,
    );
    return;
  }
  const target = (name: unknown, field: string, fieldPath: string): string | undefined => {
    if (typeof name === "string" && name in states) return name;
    problems.push(
      `MISSING_TRANSITION_TARGET: Missing '${field}' target: ${String(name)} at ${fieldPath}`,
    );
    return undefined;
  };
  const transitions = new Map<string, string[]>();
  let terminal = false;
  target(startAt, "StartAt", `${path}/StartAt`);
  for (const name of names) {
    const state = states[name];
    const statePath = `${path}/States/${name}`;
    const earlier = seen.get(name);
    if (earlier !== undefined)
      problems.push(
        `DUPLICATE_STATE_NAME: Duplicate State name: ${name} at ${statePath} (also at ${earlier})`,
      );
    else seen.set(name, statePath);
    if (!isRecord(state)) {
      problems.push(`SCHEMA_VALIDATION_FAILED: a state must be an object at ${statePath}`);
      continue;
    }
    const next: (string | undefined)[] = [];
    const type = state.Type;
    if (typeof type !== "string") {
      problems.push(`SCHEMA_VALIDATION_FAILED: These fields are required: [Type] at ${statePath}`);
      continue;
    }
    if (!STATE_TYPES.has(type)) {
      problems.push(
        `SCHEMA_VALIDATION_FAILED: ${JSON.stringify(type)} is not a valid state type (${[...STATE_TYPES].join(", ")}) at ${statePath}/Type`,
      );
      continue;
    }
    if (TERMINAL.has(type)) terminal = true;
    if (WITH_TRANSITION.has(type)) {
      const ends = state.End === true;
      if (ends) terminal = true;
      if (ends && state.Next !== undefined)
        problems.push(
          `SCHEMA_VALIDATION_FAILED: State "${name}" has both a Next field and End: true at ${statePath}`,
        );
      if (!ends && state.Next === undefined)
        problems.push(
          `MISSING_TRANSITION_TARGET: State "${name}" is not an end state and does not have a Next field at ${statePath}`,
        );
      if (state.Next !== undefined) next.push(target(state.Next, "Next", `${statePath}/Next`));
    }
    if (type === "Choice") {
      const choices = Array.isArray(state.Choices) ? state.Choices : [];
      if (choices.length === 0)
        problems.push(
          `SCHEMA_VALIDATION_FAILED: These fields are required: [Choices] at ${statePath}`,
        );
      choices.forEach((choice, i) => {
        const choicePath = `${statePath}/Choices[${i}]`;
        if (isRecord(choice) && choice.Next === undefined)
          problems.push(
            `SCHEMA_VALIDATION_FAILED: These fields are required: [Next] at ${choicePath}`,
          );
        else
          next.push(
            target(isRecord(choice) ? choice.Next : undefined, "Next", `${choicePath}/Next`),
          );
      });
      if (state.Default !== undefined)
        next.push(target(state.Default, "Default", `${statePath}/Default`));
    }
    const catchers = Array.isArray(state.Catch) ? state.Catch : [];
    catchers.forEach((catcher, i) => {
      const catchPath = `${statePath}/Catch[${i}]`;
      next.push(target(isRecord(catcher) ? catcher.Next : undefined, "Next", `${catchPath}/Next`));
    });
    if (type === "Parallel") {
      const branches = Array.isArray(state.Branches) ? state.Branches : [];
      branches.forEach((branch, i) => {
        if (isRecord(branch)) checkScope(branch, `${statePath}/Branches[${i}]`, problems, seen);
      });
    }
    if (type === "Map") {
      const field = isRecord(state.ItemProcessor) ? "ItemProcessor" : "Iterator";
      const processor = state[field];
      if (isRecord(processor)) checkScope(processor, `${statePath}/${field}`, problems, seen);
    }
    transitions.set(
      name,
      next.filter((n): n is string => n !== undefined),
    );
  }
  const reached = new Set<string>();
  const queue = startAt in states ? [startAt] : [];
  for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
    if (reached.has(name)) continue;
    reached.add(name);
    queue.push(...(transitions.get(name) ?? []));
  }
  for (const name of names)
    if (!reached.has(name) && startAt in states)
      problems.push(
        `MISSING_TRANSITION_TARGET: State "${name}" is not reachable. at ${path}/States/${name}`,
      );
  // A scope whose states lack their Next or End has no terminal state too: say that once.
  if (!terminal && problems.length === before)
    problems.push(`MISSING_END_STATE: Workflow has no terminal state at ${at}`);
}
