// CloudWatch Logs filter patterns (FilterLogEvents' `filterPattern`), as AWS documents them:
// - text terms: `ERROR`, `"exact phrase"`, `?ERROR ?WARN` (any of), `-DEBUG` (none of); case
//   sensitive, every plain term must occur;
// - JSON patterns: `{ $.notification.messageId = "abc" }`, selectors with `.name` and `[n]`,
//   `=` `!=` on strings (with `*` wildcards) and numbers, `<` `>` `<=` `>=` on numbers,
//   `IS TRUE` / `IS FALSE` / `IS NULL` / `NOT EXISTS`, combined with `&&`, `||` and parentheses.
//   A message that is not a JSON object never matches a JSON pattern.
// Space-delimited patterns (`[ip, user, ...]`) are refused rather than half-matched.
import { AwsError } from "./http.js";

export type LogFilter = (message: string) => boolean;

export function parseFilterPattern(pattern: string): LogFilter {
  const text = pattern.trim();
  if (text === "") return () => true;
  if (text.startsWith("{")) return jsonFilter(text);
  if (text.startsWith("["))
    throw invalid("space-delimited filter patterns are not supported by the local cloud");
  return termFilter(text);
}

function invalid(message: string): AwsError {
  return new AwsError("InvalidParameterException", `Invalid filter pattern: ${message}`);
}

// ---- text terms ----------------------------------------------------------------------------

function termFilter(pattern: string): LogFilter {
  const all: string[] = [];
  const any: string[] = [];
  const none: string[] = [];
  for (const m of pattern.matchAll(/([?-]?)(?:"((?:[^"\\]|\\.)*)"|(\S+))/g)) {
    const term = m[2] !== undefined ? m[2].replace(/\\(.)/g, "$1") : (m[3] ?? "");
    if (term === "") continue;
    (m[1] === "?" ? any : m[1] === "-" ? none : all).push(term);
  }
  return (message) =>
    all.every((t) => message.includes(t)) &&
    (any.length === 0 || any.some((t) => message.includes(t))) &&
    none.every((t) => !message.includes(t));
}

// ---- JSON patterns -------------------------------------------------------------------------

type Token =
  | { kind: "selector"; path: (string | number)[] }
  | { kind: "op"; value: string }
  | { kind: "string"; value: string }
  | { kind: "word"; value: string }
  | { kind: "punct"; value: "(" | ")" | "&&" | "||" };

type Node =
  | { kind: "and"; left: Node; right: Node }
  | { kind: "or"; left: Node; right: Node }
  | { kind: "compare"; path: (string | number)[]; op: string; value: string; quoted: boolean }
  | { kind: "is"; path: (string | number)[]; what: "TRUE" | "FALSE" | "NULL" | "NOT EXISTS" };

function jsonFilter(pattern: string): LogFilter {
  if (!pattern.endsWith("}")) throw invalid("a JSON pattern ends with }");
  const tokens = tokenize(pattern.slice(1, -1));
  let at = 0;
  const peek = () => tokens[at];
  const next = () => {
    const token = tokens[at++];
    if (!token) throw invalid("the pattern ends early");
    return token;
  };
  const orExpr = (): Node => {
    let left = andExpr();
    while (isPunct(peek(), "||")) {
      at += 1;
      left = { kind: "or", left, right: andExpr() };
    }
    return left;
  };
  const andExpr = (): Node => {
    let left = term();
    while (isPunct(peek(), "&&")) {
      at += 1;
      left = { kind: "and", left, right: term() };
    }
    return left;
  };
  const term = (): Node => {
    const token = next();
    if (isPunct(token, "(")) {
      const inner = orExpr();
      if (!isPunct(next(), ")")) throw invalid("a ( is not closed");
      return inner;
    }
    if (token.kind !== "selector") throw invalid("a comparison starts with a $. selector");
    const op = next();
    if (op.kind === "word" && (op.value === "IS" || op.value === "NOT")) {
      const what = next();
      if (what.kind !== "word") throw invalid(`${op.value} needs TRUE, FALSE, NULL or EXISTS`);
      if (op.value === "NOT" && what.value === "EXISTS")
        return { kind: "is", path: token.path, what: "NOT EXISTS" };
      if (op.value === "IS" && ["TRUE", "FALSE", "NULL"].includes(what.value))
        return { kind: "is", path: token.path, what: what.value as "TRUE" | "FALSE" | "NULL" };
      throw invalid(`${op.value} ${what.value} is not a test`);
    }
    if (op.kind !== "op") throw invalid("a selector is followed by an operator");
    const value = next();
    if (value.kind !== "string" && value.kind !== "word")
      throw invalid(`${op.value} needs a value`);
    return {
      kind: "compare",
      path: token.path,
      op: op.value,
      value: value.value,
      quoted: value.kind === "string",
    };
  };
  const tree = orExpr();
  if (at !== tokens.length) throw invalid("unexpected text after the expression");
  return (message) => {
    let document: unknown;
    try {
      document = JSON.parse(message);
    } catch {
      return false;
    }
    return typeof document === "object" && document !== null && evaluate(tree, document);
  };
}

function isPunct(token: Token | undefined, value: string): boolean {
  return token?.kind === "punct" && token.value === value;
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const rest = source.slice(i);
    const space = /^\s+/.exec(rest);
    if (space) {
      i += space[0].length;
      continue;
    }
    const selector = /^\$((?:\.[A-Za-z0-9_@-]+|\[\d+\])*)/.exec(rest);
    if (selector?.[1] !== undefined && rest.startsWith("$")) {
      const path = [...selector[1].matchAll(/\.([A-Za-z0-9_@-]+)|\[(\d+)\]/g)].map((m) =>
        m[1] !== undefined ? m[1] : Number(m[2]),
      );
      tokens.push({ kind: "selector", path });
      i += selector[0].length;
      continue;
    }
    const punct = /^(\(|\)|&&|\|\|)/.exec(rest);
    if (punct?.[1]) {
      tokens.push({ kind: "punct", value: punct[1] as "(" | ")" | "&&" | "||" });
      i += punct[1].length;
      continue;
    }
    const op = /^(!=|<=|>=|=|<|>)/.exec(rest);
    if (op?.[1]) {
      tokens.push({ kind: "op", value: op[1] });
      i += op[1].length;
      continue;
    }
    const quoted = /^"((?:[^"\\]|\\.)*)"/.exec(rest);
    if (quoted?.[1] !== undefined) {
      tokens.push({ kind: "string", value: quoted[1].replace(/\\(.)/g, "$1") });
      i += quoted[0].length;
      continue;
    }
    const word = /^[^\s()&|=!<>"]+/.exec(rest);
    if (word) {
      tokens.push({ kind: "word", value: word[0] });
      i += word[0].length;
      continue;
    }
    throw invalid(`unexpected ${JSON.stringify(rest.slice(0, 10))}`);
  }
  return tokens;
}

const MISSING = Symbol("missing");

function select(document: unknown, path: (string | number)[]): unknown {
  let value: unknown = document;
  for (const step of path) {
    if (typeof step === "number") {
      if (!Array.isArray(value) || step >= value.length) return MISSING;
      value = value[step];
    } else {
      if (typeof value !== "object" || value === null || Array.isArray(value)) return MISSING;
      if (!Object.hasOwn(value, step)) return MISSING;
      value = (value as Record<string, unknown>)[step];
    }
  }
  return value;
}

function evaluate(node: Node, document: unknown): boolean {
  if (node.kind === "and") return evaluate(node.left, document) && evaluate(node.right, document);
  if (node.kind === "or") return evaluate(node.left, document) || evaluate(node.right, document);
  const value = select(document, node.path);
  if (node.kind === "is") {
    if (node.what === "NOT EXISTS") return value === MISSING;
    if (node.what === "NULL") return value === null;
    return value === (node.what === "TRUE");
  }
  if (value === MISSING || value === null || typeof value === "object") return false;
  const wanted = node.value;
  const number = Number(wanted);
  if (!node.quoted && wanted !== "" && Number.isFinite(number)) {
    if (typeof value !== "number") return node.op === "!=";
    switch (node.op) {
      case "=":
        return value === number;
      case "!=":
        return value !== number;
      case "<":
        return value < number;
      case ">":
        return value > number;
      case "<=":
        return value <= number;
      default:
        return value >= number;
    }
  }
  if (node.op !== "=" && node.op !== "!=")
    throw invalid(`${node.op} compares numbers, not ${JSON.stringify(wanted)}`);
  const equal = wildcard(wanted).test(String(value));
  return node.op === "=" ? equal : !equal;
}

function wildcard(value: string): RegExp {
  const escaped = value.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replaceAll("*", ".*");
  return new RegExp(`^${escaped}$`, "s");
}
