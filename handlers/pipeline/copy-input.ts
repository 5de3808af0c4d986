/**
 * Copies the exact dropped version into the run (SageMaker reads keys, not versions) and writes
 * the run's options where the preprocess job reads them.
 */
import { z } from "zod";
import { type Root, root } from "../../aws/root.js";
import { pipelineState } from "./payload.js";

const Payload = z.object({ state: z.unknown() });

export class DatasetMissing extends Error {
  override readonly name = "DatasetMissing";
}

export function makeHandler(deps: { root: Pick<Root, "objects"> }) {
  return async (event: unknown): Promise<{ input: string }> => {
    const state = pipelineState(Payload.parse(event).state);
    const objects = deps.root.objects();
    const { key, versionId } = state.source;
    const version = versionId === "null" ? undefined : versionId;
    if (!(await objects.head(state.bucket, key, version)))
      throw new DatasetMissing(
        `the dropped file s3://${state.bucket}/${key} (version ${versionId}) was deleted before the run could copy it`,
      );
    await objects.copyVersion(state.bucket, key, versionId, state.paths.inputKey);
    await objects.putText(
      state.bucket,
      state.paths.optionsKey,
      JSON.stringify(state.options),
      "application/json",
    );
    return { input: state.paths.input };
  };
}

export const handler = makeHandler({ root });
