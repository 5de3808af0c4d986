// S3's EventBridge notifications: the object store's changes in the shape S3 sends them
// ("Object Created", "Object Deleted", source `aws.s3`), put on the local EventBridge.
import { randomUUID } from "node:crypto";
import type { ObjectCreated, ObjectDeleted, ObjectEvents } from "./s3-store.js";

/** The part of EventBridge that S3 notifications need. */
export interface EventBus {
  put(event: Record<string, unknown>): Promise<void>;
}

/** The store's changes, sent to `bus` (each is on disk in EventBridge's pending folder when this returns). */
export function s3NotificationsTo(bus: EventBus, region: string, account: string): ObjectEvents {
  return {
    created: (created) => void bus.put(objectCreatedEvent(created, region, account)),
    deleted: (deleted) => void bus.put(objectDeletedEvent(deleted, region, account)),
  };
}

/** S3 keys in event notifications are URL-encoded with `+` for a space, as S3 sends them. */
export function encodeEventKey(key: string): string {
  return encodeURIComponent(key).replaceAll("%2F", "/").replaceAll("%20", "+");
}

function eventEnvelope(
  detailType: string,
  bucket: string,
  region: string,
  account: string,
  detail: Record<string, unknown>,
): Record<string, unknown> {
  return {
    version: "0",
    id: randomUUID(),
    "detail-type": detailType,
    source: "aws.s3",
    account,
    time: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
    region,
    resources: [`arn:aws:s3:::${bucket}`],
    detail: {
      version: "0",
      bucket: { name: bucket },
      ...detail,
      "request-id": randomUUID(),
      requester: account,
      "source-ip-address": "127.0.0.1",
    },
  };
}

function objectCreatedEvent(
  e: ObjectCreated,
  region: string,
  account: string,
): Record<string, unknown> {
  const object = {
    key: encodeEventKey(e.key),
    size: e.version.size,
    etag: e.version.etag.replaceAll('"', ""),
    sequencer: e.sequencer,
    ...(e.version.versionId === "null" ? {} : { "version-id": e.version.versionId }),
  };
  return eventEnvelope("Object Created", e.bucket, region, account, {
    object,
    reason: e.reason,
  });
}

function objectDeletedEvent(
  e: ObjectDeleted,
  region: string,
  account: string,
): Record<string, unknown> {
  const object = {
    key: encodeEventKey(e.key),
    sequencer: e.sequencer,
    ...(e.versionId === "null" ? {} : { "version-id": e.versionId }),
  };
  return eventEnvelope("Object Deleted", e.bucket, region, account, {
    object,
    reason: "DeleteObject",
    "deletion-type": e.deletionType,
  });
}
