/**
 * The run options as the form holds them (dotted paths → what was typed) and back as the
 * options object the API takes, both read from the one options JSON Schema (the file the
 * Python jobs validate against, generated from core/options.ts).
 */

import { NOT_YET_ACCEPTED } from "../core/options.js";
import schema from "../ml/modeldrop_ml/options.schema.json" with { type: "json" };

export interface Property {
  type?: string;
  enum?: string[];
  description?: string;
  minimum?: number;
  maximum?: number;
  properties?: Record<string, Property>;
  items?: Property;
  algorithms?: string[];
}

export const PROPERTIES = schema.properties as Record<string, Property>;

/** Shown first; the rest sit under "More options". */
export const BASIC = [
  "target",
  "task",
  "modelName",
  "algorithm",
  "preset",
  "metric",
  "threshold",
  "manualApproval",
  "code",
];
export const HIDDEN = new Set<string>(NOT_YET_ACCEPTED);

/** Dotted option path → what the user typed (strings; checkboxes "true"). */
export type OptionValues = Record<string, string>;

export interface Choices {
  /** Column names from the file's header, offered for target and ignoreColumns. */
  columns: string[];
  /** Registered code names, offered for code.name. */
  code: string[];
}

function typed(property: Property, text: string): unknown {
  if (property.type === "integer" || property.type === "number")
    return text.trim() === "" ? undefined : Number(text);
  if (property.type === "boolean") return text === "true" ? true : undefined;
  if (property.type === "array")
    return text.trim() === ""
      ? undefined
      : text
          .split(",")
          .map((item) => item.trim())
          .filter(Boolean);
  return text === "" ? undefined : text;
}

function build(properties: Record<string, Property>, values: OptionValues, prefix: string) {
  const out: Record<string, unknown> = {};
  for (const [name, property] of Object.entries(properties)) {
    const path = prefix ? `${prefix}.${name}` : name;
    const value =
      property.type === "object" && property.properties
        ? build(property.properties, values, path)
        : values[path] === undefined
          ? undefined
          : typed(property, values[path]);
    if (value !== undefined) out[name] = value;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** The options object for the API: only what the user set. */
export function optionsFrom(values: OptionValues): Record<string, unknown> | undefined {
  return build(PROPERTIES, values, "");
}
