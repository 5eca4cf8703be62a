/**
 * DynamoDB deletes `pending` records and tombstones once their `expiresAt` (the table's TTL attribute) has
 * passed; dynalite has no TTL, so the local runtime sweeps them itself: at start and then periodically.
 */
import { DeleteCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { DELETED_STATUS, EXPIRES_AT_ATTRIBUTE, type RecordStore } from "../../handlers/lib/storage/records.js";

/** Deletes every `pending` record and tombstone whose expiresAt is at or before `now`; returns how many it deleted. */
export async function sweepExpiredGrants(records: RecordStore, now: Date): Promise<number> {
  const condition = "#status IN (:pending, :deleted) AND #expiresAt <= :now";
  const names = { "#status": "status", "#expiresAt": EXPIRES_AT_ATTRIBUTE };
  const values = { ":pending": "pending", ":deleted": DELETED_STATUS, ":now": Math.floor(now.getTime() / 1000) };
  let deleted = 0;
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await records.client.send(
      new ScanCommand({
        TableName: records.tableName,
        FilterExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ProjectionExpression: "id",
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of page.Items ?? []) {
      try {
        // Conditional: an upload that started processing since the scan keeps its record.
        await records.client.send(
          new DeleteCommand({
            TableName: records.tableName,
            Key: { id: item.id },
            ConditionExpression: condition,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          }),
        );
        deleted++;
      } catch (error) {
        if ((error as { name?: string }).name !== "ConditionalCheckFailedException") throw error;
      }
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return deleted;
}

/** Sweeps now and every `intervalMs`; the returned function stops it. */
export function startGrantSweeper(options: {
  records: RecordStore;
  intervalMs: number;
  now?: () => Date;
  log: (line: string) => void;
}): () => void {
  const now = options.now ?? (() => new Date());
  let running: Promise<void> | undefined;
  const sweep = () => {
    running ??= sweepExpiredGrants(options.records, now())
      .then(
        (deleted) => {
          if (deleted > 0)
            options.log(`deleted ${deleted} expired upload grant(s) never used (pending past expiresAt)`);
        },
        (error: Error) =>
          options.log(
            `sweeping expired upload grants failed (next try in ${Math.round(options.intervalMs / 1000)} s): ${error.message}`,
          ),
      )
      .finally(() => (running = undefined));
  };
  sweep();
  const timer = setInterval(sweep, options.intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
