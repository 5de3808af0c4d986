/** How numbers, times, money and bar widths are written on the page. */
export function num(value: number, digits = 4): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return value.toLocaleString("en-US");
  return value.toFixed(digits);
}

/** A profile statistic or parameter: at most 3 decimals, no trailing zeros. */
export function short(value: unknown): string {
  if (typeof value === "number")
    return Number.isFinite(value)
      ? value.toLocaleString("en-US", { maximumFractionDigits: 3 })
      : String(value);
  if (typeof value === "string") return value;
  return JSON.stringify(value) ?? "";
}

export function count(n: number, noun: string): string {
  return `${num(n)} ${noun}${n === 1 ? "" : "s"}`;
}

export function percent(fraction: number): string {
  return `${(100 * fraction).toFixed(1)} %`;
}

/** `2026-11-01 10:00:03 UTC` */
export function when(iso: string): string {
  const time = Date.parse(iso);
  return Number.isNaN(time)
    ? iso
    : `${new Date(time).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** `10:00:03`, for the timeline (the date is in the header). */
export function clock(iso: string | undefined): string {
  if (!iso) return "—";
  const time = Date.parse(iso);
  return Number.isNaN(time) ? iso : new Date(time).toISOString().slice(11, 19);
}

export function usd(value: number): string {
  if (value > 0 && value < 0.0001) return "< $0.0001";
  return value < 0.01 && value > 0 ? `$${value.toFixed(4)}` : `$${value.toFixed(2)}`;
}

/** A width for an inline bar, as a number only (never user text inside a style attribute). */
export function width(fraction: number): string {
  const clamped = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  return `width:${(100 * clamped).toFixed(2)}%`;
}
