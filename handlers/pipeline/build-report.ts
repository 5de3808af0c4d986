/** Writes the run's self-contained HTML report next to its outputs and records where it is. */
import { z } from "zod";
import { buildReport } from "../../app/pipeline-tasks.js";
import type { Ports } from "../../app/ports.js";
import { ports } from "../../aws/root.js";
import { parsePipelineState } from "../../core/pipeline-state.js";
import { lambdaHandler } from "../lambda.js";

const Payload = z.object({ state: z.unknown() });

export function makeHandler(deps: { ports: Pick<Ports, "runs" | "objects"> }) {
  return lambdaHandler(Payload, (event) =>
    buildReport(deps.ports, parsePipelineState(event.state)),
  );
}

export const handler = makeHandler({ ports });
