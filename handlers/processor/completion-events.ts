import { PutEventsCommand, type EventBridgeClient } from "@aws-sdk/client-eventbridge";
import type { ImageRecord } from "../lib/storage/records.js";
import { TransientError } from "../lib/errors.js";
import { publicView, type PublicView } from "../lib/contract/public-view.js";
import { DETAIL_TYPES, EVENT_SOURCE, type CompletionDetailType } from "../lib/contract/completion-events.js";
import type { OutcomeHook, OutcomeReport } from "./processor.js";

/**
 * Completion events (docs/design.md "Completion events"): when an image ends `done` or `failed`, one event with the
 * image's view without URLs, `owner` when the record has one, and `eventId` = `{id}:{sequencer}` for consumers to
 * deduplicate. Delivery is at least once: the publisher is an outcome hook, so a failed publish sends the message
 * back, and a redelivered final image (a `duplicate`) publishes again. A second object sent with a used grant
 * (`reusedGrant`) publishes nothing: the image did not change.
 */

export { DETAIL_TYPES, EVENT_SOURCE, type CompletionDetailType };

/** The image's public view (publicView: no URLs), its owner when it has one, and an id to deduplicate by. */
export interface CompletionDetail extends PublicView {
  eventId: string;
  status: "done" | "failed";
  owner?: string;
}

export interface CompletionEvent {
  source: typeof EVENT_SOURCE;
  detailType: CompletionDetailType;
  detail: CompletionDetail;
}

/**
 * `{id}:{sequencer}` for the first processing; a reprocess's generation N > 1 adds `:g{N}`, so each reprocess is a
 * new event while a redelivery (of the upload's message or of the reprocess job) repeats the id it had. A record
 * without a sequencer (an unsequenced event) is told apart by its final write's time, which a redelivery keeps.
 */
export function eventIdOf(record: ImageRecord): string {
  const base = `${record.id}:${record.sequencer ?? record.updatedAt}`;
  const generation = record.generation ?? 1;
  return generation > 1 ? `${base}:g${generation}` : base;
}

/** The event an outcome calls for, or undefined (not final, no record, or a reused grant). */
export function completionEventOf(report: OutcomeReport): CompletionEvent | undefined {
  const record = report.record;
  if (!record || report.reusedGrant) return undefined;
  if (report.outcome !== "done" && report.outcome !== "failed" && report.outcome !== "duplicate") return undefined;
  if (record.status !== "done" && record.status !== "failed") return undefined;
  const owner = (record as ImageRecord & { owner?: unknown }).owner;
  const detail: CompletionDetail = {
    eventId: eventIdOf(record),
    ...publicView(record),
    status: record.status,
    ...(typeof owner === "string" ? { owner } : {}),
  };
  return { source: EVENT_SOURCE, detailType: DETAIL_TYPES[record.status], detail };
}

/** The outcome hook that puts each completion event on the bus; a failed or partly failed PutEvents throws. */
export function eventBridgePublisher(options: {
  client: Pick<EventBridgeClient, "send">;
  busName: string;
}): OutcomeHook {
  return async (report) => {
    const event = completionEventOf(report);
    if (!event) return;
    const response = await options.client.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: options.busName,
            Source: event.source,
            DetailType: event.detailType,
            Detail: JSON.stringify(event.detail),
          },
        ],
      }),
    );
    // PutEvents answers 200 with per-entry failures (throttling, internal errors): those are failures too.
    // A refused publish may pass when the message comes back: transient.
    if ((response.FailedEntryCount ?? 0) > 0) {
      const entry = response.Entries?.find((e) => e.ErrorCode);
      throw new TransientError(
        "event_publish_failed",
        `PutEvents refused ${event.detail.eventId}: ${entry?.ErrorCode ?? "unknown"} ${entry?.ErrorMessage ?? ""}`.trim(),
      );
    }
  };
}
