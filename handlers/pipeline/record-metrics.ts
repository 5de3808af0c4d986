/** Records the test metrics and decides the quality gate the state machine's Choice tests. */
import { z } from "zod";
import { recordMetrics } from "../../app/pipeline-tasks.js";
import type { Ports } from "../../app/ports.js";
import { ports } from "../../aws/root.js";
import { parseTrainingState } from "../../core/pipeline-state.js";
import { lambdaHandler } from "../lambda.js";

const Payload = z.object({ state: z.unknown() });

export function makeHandler(deps: { ports: Pick<Ports, "runs" | "objects"> }) {
  return lambdaHandler(Payload, (event) =>
    recordMetrics(deps.ports, parseTrainingState(event.state)),
  );
}

export const handler = makeHandler({ ports });
