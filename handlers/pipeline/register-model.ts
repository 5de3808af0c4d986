/** Registers the trained model as the next version of its name (app/pipeline-tasks.ts). */
import { z } from "zod";
import { registerModel } from "../../app/pipeline-tasks.js";
import type { Ports } from "../../app/ports.js";
import { ports } from "../../aws/root.js";
import { parseTrainingState } from "../../core/pipeline-state.js";
import { lambdaHandler } from "../lambda.js";

const Payload = z.object({ state: z.unknown(), artifact: z.string().startsWith("s3://") });

export function makeHandler(deps: {
  ports: Pick<Ports, "runs" | "models" | "modelEvents" | "objects" | "log" | "now">;
}) {
  return lambdaHandler(Payload, (event) =>
    registerModel(deps.ports, parseTrainingState(event.state), event.artifact),
  );
}

export const handler = makeHandler({ ports });
