/**
 * A command as one table: its flags (what `parseArgs` accepts, with a line of help each), its
 * arguments and what it does. The command's `--help` and the global usage are printed from the
 * same table its arguments are parsed with, so a flag cannot be accepted and go undocumented.
 */
import { type ParseArgsConfig, parseArgs } from "node:util";
import { CliError } from "./client.js";

export type Flag = NonNullable<ParseArgsConfig["options"]>[string] & {
  /** One line for `--help`. */
  description: string;
  /** The value's placeholder in the usage (`--port N`); string flags only. */
  value?: string;
  /**
   * Flags naming the same set are alternatives: the usage shows them as one `[--a | --b]`, and
   * passing more than one is a usage error.
   */
  oneOf?: string;
};
export type Flags = Record<string, Flag>;

export const HELP_FLAGS = {
  help: { type: "boolean", short: "h", default: false, description: "print this help" },
} as const satisfies Flags;

/** What each command that talks to the REST API takes. */
export const API_FLAGS = {
  json: {
    type: "boolean",
    default: false,
    description: "the answer as JSON on stdout; an error as one line of JSON on stderr",
  },
  endpoint: {
    type: "string",
    value: "URL",
    description: "the API (default MODELDROP_ENDPOINT, then the local cloud's)",
  },
  token: {
    type: "string",
    value: "T",
    description: "the API token (default MODELDROP_TOKEN, then the local cloud's)",
  },
  "state-dir": {
    type: "string",
    value: "DIR",
    description:
      "the local cloud's state folder, where its token is (default MODELDROP_STATE_DIR, then ./.modeldrop)",
  },
  ...HELP_FLAGS,
} as const satisfies Flags;

/** `--memory 2048` → 2048; a usage error for anything but a whole number. */
export function wholeNumber(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new CliError(`--${flag} must be a whole number, not ${text}`, 2);
  return Number(text);
}

type Parsed<F extends Flags> = ReturnType<
  typeof parseArgs<{ args: string[]; options: F; allowPositionals: true }>
>;

export interface CommandSpec<F extends Flags> {
  name: string;
  /** Its heading in the global usage. */
  group: string;
  /** Positional arguments as the usage names them: `<file>` is required, `[name]` is not. */
  args?: readonly string[];
  summary: string;
  /** Lines after the flags in the command's own `--help`. */
  notes?: string;
  flags: F;
  /** `argv` is what was parsed, for commands that hand it on to a parser of their own. */
  run: (parsed: Parsed<F>, argv: string[]) => Promise<number>;
}

export interface Command {
  name: string;
  group: string;
  summary: string;
  /** Whether it takes every API flag (it talks to the REST API). */
  api: boolean;
  /** `drop <file> [--target COL] …`, without the API flags of an API command. */
  synopsis: string;
  /** The command's own `--help`. */
  usage: string;
  /** Parses `argv` (a usage error is a CliError with exit 2) and runs the command. */
  run: (argv: string[]) => Promise<number>;
}

const WIDTH = 100;

/** Joins words into lines of at most WIDTH characters, each line after the first on `indent`. */
function wrap(words: string[], indent: string): string {
  const lines: string[] = [];
  let line = "";
  for (const word of words) {
    if (line.trim() && line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = `${indent}${word}`;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.join("\n");
}

/** `text` wrapped to WIDTH, every line on `indent`. */
export function paragraph(text: string, indent = ""): string {
  const [first = "", ...rest] = text.split(" ");
  return wrap([`${indent}${first}`, ...rest], indent);
}

function flagValue(flag: Flag): string {
  return flag.type === "string" ? ` ${flag.value ?? "VALUE"}` : "";
}

function flagSynopsis(name: string, flag: Flag): string {
  return `[--${name}${flagValue(flag)}]${flag.multiple ? "..." : ""}`;
}

/** Each flag's `[--name VALUE]`, alternatives (`oneOf`) together as one `[--a | --b]`. */
function flagSynopses(flags: [string, Flag][]): string[] {
  const shown = new Set<string>();
  const synopses: string[] = [];
  for (const [name, flag] of flags) {
    if (!flag.oneOf) {
      synopses.push(flagSynopsis(name, flag));
      continue;
    }
    if (shown.has(flag.oneOf)) continue;
    shown.add(flag.oneOf);
    const set = flags.filter(([, other]) => other.oneOf === flag.oneOf);
    synopses.push(`[${set.map(([each, other]) => `--${each}${flagValue(other)}`).join(" | ")}]`);
  }
  return synopses;
}

/** A usage error when two flags of one `oneOf` set were both given. */
function refuseAlternatives(flags: Flags, values: Record<string, unknown>): void {
  const given = new Map<string, string[]>();
  for (const [name, flag] of Object.entries(flags))
    if (flag.oneOf && values[name] !== undefined && values[name] !== false)
      given.set(flag.oneOf, [...(given.get(flag.oneOf) ?? []), `--${name}`]);
  for (const names of given.values())
    if (names.length > 1) throw new CliError(`${names.join(" and ")} cannot be used together`, 2);
}

/** `  -h, --help          print this help` lines, the descriptions in one wrapped column. */
export function flagLines(flags: Flags): string[] {
  const labels = Object.entries(flags).map(
    ([name, flag]) => `${flag.short ? `-${flag.short}, ` : "    "}--${name}${flagValue(flag)}`,
  );
  const column = Math.max(...labels.map((label) => label.length)) + 4;
  return Object.values(flags).map((flag, i) => {
    const [first = "", ...rest] =
      `${flag.description}${flag.multiple ? " (repeatable)" : ""}`.split(" ");
    return wrap([`  ${(labels[i] ?? "").padEnd(column - 2)}${first}`, ...rest], " ".repeat(column));
  });
}

export function command<F extends Flags>(spec: CommandSpec<F>): Command {
  const flags: Flags = spec.flags;
  const shared: Flags = API_FLAGS;
  const api = Object.entries(shared).every(([name, flag]) => flags[name] === flag);
  // The global usage lists the API flags once, after the API commands.
  const synopsis = wrap(
    [
      spec.name,
      ...(spec.args ?? []),
      ...flagSynopses(
        Object.entries(flags).filter(([name]) => name !== "help" && !(api && name in shared)),
      ),
    ],
    " ".repeat(spec.name.length + 3),
  );
  const usage = [
    wrap(
      [
        "usage: modeldrop",
        spec.name,
        ...(spec.args ?? []),
        ...flagSynopses(Object.entries(flags).filter(([name]) => name !== "help")),
      ],
      " ".repeat(`usage: modeldrop ${spec.name} `.length),
    ),
    "",
    paragraph(`${spec.summary[0]?.toUpperCase() ?? ""}${spec.summary.slice(1)}.`),
    "",
    "flags:",
    ...flagLines(flags),
    ...(spec.notes ? ["", paragraph(spec.notes)] : []),
  ].join("\n");
  const required = (spec.args ?? []).filter((arg) => arg.startsWith("<"));
  const allowed = spec.args?.length ?? 0;
  return {
    name: spec.name,
    group: spec.group,
    summary: spec.summary,
    api,
    synopsis,
    usage,
    run: async (argv) => {
      let checked: ReturnType<
        typeof parseArgs<{ args: string[]; options: Flags; allowPositionals: true }>
      >;
      try {
        checked = parseArgs({ args: argv, options: flags, allowPositionals: true });
      } catch (error) {
        // Node's advice on positionals that start with "-" follows the first sentence; the
        // usage printed after it says more.
        const message = error instanceof Error ? error.message : String(error);
        throw new CliError(message.split(". To specify a positional")[0] ?? message, 2);
      }
      if (checked.values.help === true) {
        console.log(usage);
        return 0;
      }
      refuseAlternatives(flags, checked.values);
      const { positionals } = checked;
      if (positionals.length < required.length)
        throw new CliError(`missing ${required[positionals.length]}`, 2);
      if (positionals.length > allowed)
        throw new CliError(`unexpected argument ${positionals[allowed]}`, 2);
      // The same table again, for values typed by it (it parsed above, so it parses here).
      return spec.run(parseArgs({ args: argv, options: spec.flags, allowPositionals: true }), argv);
    },
  };
}
