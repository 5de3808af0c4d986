/** Registry entries as the API shows them. */

import type { ModelVersionView } from "../../core/api.js";
import type { ModelVersion } from "../../core/registry.js";

export function versionView(version: ModelVersion): ModelVersionView {
  return {
    modelName: version.modelName,
    version: version.version,
    approval: version.approval,
    artifact: version.artifact,
    runId: version.runId,
    metrics: version.metrics,
    createdAt: version.createdAt,
    ...(version.decidedBy ? { decidedBy: version.decidedBy } : {}),
    ...(version.decidedAt ? { decidedAt: version.decidedAt } : {}),
    ...(version.reason ? { reason: version.reason } : {}),
    ...(version.schema ? { schema: version.schema } : {}),
    ...(version.schemaChange ? { schemaChange: version.schemaChange } : {}),
  };
}
