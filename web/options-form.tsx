/**
 * The run options as a form, generated from the options JSON Schema (web/options.ts): a select
 * for each enum, a number field for each number, a checkbox for each boolean, a fieldset for
 * each object. The API's own schema checks what it gives (web/api.ts), so the messages at the
 * fields are the API's own.
 */
import { type ReactElement, useId } from "react";
import {
  BASIC,
  type Choices,
  HIDDEN,
  type OptionValues,
  PROPERTIES,
  type Property,
} from "./options.js";
import { described, Field } from "./ui.js";

function label(name: string): string {
  const words = name.replace(/([a-z])([A-Z])/g, "$1 $2").replaceAll("_", " ");
  return words.charAt(0).toUpperCase() + words.slice(1).toLowerCase();
}

interface ControlProps {
  path: string;
  property: Property;
  values: OptionValues;
  errors: Record<string, string>;
  choices: Choices;
  onChange: (path: string, value: string) => void;
}

/**
 * A hyperparameter the pinned algorithm does not take is left out of the form, unless it holds
 * a value or an error (which must stay visible to be fixed).
 */
function shown(
  property: Property,
  path: string,
  values: OptionValues,
  errors: Record<string, string>,
): boolean {
  const algorithm = values.algorithm;
  if (!algorithm || !property.algorithms || property.algorithms.includes(algorithm)) return true;
  return Boolean(values[path] || errors[`options.${path}`]);
}

function Control({ path, property, values, errors, choices, onChange }: ControlProps) {
  const base = useId();
  const id = `${base}-${path.replaceAll(".", "-")}`;
  const name = path.split(".").pop() ?? path;
  const error = errors[`options.${path}`];
  const value = values[path] ?? "";
  if (property.type === "object" && property.properties)
    return (
      <fieldset className="group">
        <legend>{label(name)}</legend>
        {property.description && <p className="help">{property.description}</p>}
        {error && <p className="field-error">{error}</p>}
        {Object.entries(property.properties)
          .filter(([child, p]) => shown(p, `${path}.${child}`, values, errors))
          .map(([child, p]) => (
            <Control
              key={child}
              path={`${path}.${child}`}
              property={p}
              values={values}
              errors={errors}
              choices={choices}
              onChange={onChange}
            />
          ))}
      </fieldset>
    );
  const help = property.description ?? rangeHelp(property);
  const aria = described(id, help, error);
  if (property.type === "boolean")
    return (
      <Field id={id} label={label(name)} help={help} error={error} check>
        <input
          {...aria}
          type="checkbox"
          checked={value === "true"}
          onChange={(e) => onChange(path, e.target.checked ? "true" : "")}
        />
      </Field>
    );
  const options =
    property.enum ??
    (path === "target" && choices.columns.length > 0 ? choices.columns : undefined) ??
    (path === "code.name" && choices.code.length > 0 ? choices.code : undefined);
  let control: ReactElement;
  if (options)
    control = (
      <select {...aria} value={value} onChange={(e) => onChange(path, e.target.value)}>
        <option value="">{path === "code.name" ? "(none: the built-in jobs)" : "(default)"}</option>
        {options.map((option) => (
          <option key={option} value={option}>
            {option}
          </option>
        ))}
      </select>
    );
  else
    control = (
      <input
        {...aria}
        type={property.type === "integer" || property.type === "number" ? "number" : "text"}
        {...(property.type === "number" ? { step: "any" } : {})}
        value={value}
        onChange={(e) => onChange(path, e.target.value)}
      />
    );
  return (
    <Field
      id={id}
      label={label(name)}
      help={
        path === "ignoreColumns" && choices.columns.length > 0
          ? `comma-separated; columns: ${choices.columns.join(", ")}`
          : help
      }
      error={error}
    >
      {control}
    </Field>
  );
}

function rangeHelp(property: Property): string | undefined {
  if (property.minimum === undefined && property.maximum === undefined) return undefined;
  return `${property.minimum ?? "…"} to ${property.maximum ?? "…"}`;
}

export function OptionsForm(props: {
  values: OptionValues;
  errors: Record<string, string>;
  choices: Choices;
  onChange: (path: string, value: string) => void;
}) {
  const entries = Object.entries(PROPERTIES).filter(([name]) => !HIDDEN.has(name));
  const basic = entries.filter(([name]) => BASIC.includes(name));
  const more = entries.filter(([name]) => !BASIC.includes(name));
  const moreHasError = Object.keys(props.errors).some((field) =>
    more.some(([name]) => field.startsWith(`options.${name}`)),
  );
  return (
    <>
      {basic.map(([name, property]) => (
        <Control key={name} path={name} property={property} {...props} />
      ))}
      <details open={moreHasError || undefined}>
        <summary>More options</summary>
        {more.map(([name, property]) => (
          <Control key={name} path={name} property={property} {...props} />
        ))}
      </details>
    </>
  );
}
