/** Endpoints as the API shows them: the record without its storage details, with its cost so far. */
import type { EndpointView } from "../../core/api.js";
import { type EndpointRecord, endpointCost } from "../../core/endpoints.js";

export function endpointView(record: EndpointRecord, now: Date): EndpointView {
  const url = `/models/${encodeURIComponent(record.modelName)}/endpoints/${record.mode}`;
  return {
    modelName: record.modelName,
    mode: record.mode,
    name: record.name,
    status: record.status,
    version: record.version,
    settings: record.settings,
    idleTimeoutMinutes: record.idleTimeoutMinutes,
    ...(record.updating ? { updating: { version: record.updating.version } } : {}),
    ...(record.failureReason ? { failureReason: record.failureReason } : {}),
    createdAt: record.createdAt,
    createdBy: record.createdBy,
    ...(record.inServiceAt ? { inServiceAt: record.inServiceAt } : {}),
    ...(record.deletedAt ? { deletedAt: record.deletedAt } : {}),
    ...(record.deletion ? { deletion: record.deletion } : {}),
    ...(record.lastInvokedAt ? { lastInvokedAt: record.lastInvokedAt } : {}),
    invocations: record.invocations,
    cost: endpointCost(record, now),
    history: record.history,
    url,
    invokeUrl: `/models/${encodeURIComponent(record.modelName)}/invoke?mode=${record.mode}`,
  };
}
