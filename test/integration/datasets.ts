// Small generated datasets the integration tests drop.

/** A binary task two features separate well: `churned` is yes when usage is low and tickets high. */
export function churnCsv(rows: number, seed = 1): string {
  let state = seed;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  const lines = ["customer_id,monthly_usage,support_tickets,plan,churned"];
  for (let i = 0; i < rows; i++) {
    const usage = Math.round(random() * 100);
    const tickets = Math.floor(random() * 8);
    const plan = ["basic", "pro", "team"][i % 3];
    const churned = usage < 40 && tickets > 2 ? "yes" : random() < 0.08 ? "yes" : "no";
    lines.push(`C${1000 + i},${usage},${tickets},${plan},${churned}`);
  }
  return `${lines.join("\n")}\n`;
}
