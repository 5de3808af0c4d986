/** Copies the exact dropped version into the run and writes its options (app/pipeline-tasks.ts). */
import { z } from "zod";
import { copyInput } from "../../app/pipeline-tasks.js";
import type { Ports } from "../../app/ports.js";
import { ports } from "../../aws/root.js";
import { parsePipelineState } from "../../core/pipeline-state.js";
import { lambdaHandler } from "../lambda.js";

const Payload = z.object({ state: z.unknown() });

export function makeHandler(deps: { ports: Pick<Ports, "objects"> }) {
  return lambdaHandler(Payload, (event) => copyInput(deps.ports, parsePipelineState(event.state)));
}

export const handler = makeHandler({ ports });
