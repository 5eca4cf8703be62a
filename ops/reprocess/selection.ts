import { BatchGetCommand, GetCommand, ScanCommand, type BatchGetCommandOutput } from "@aws-sdk/lib-dynamodb";
import { isTombstone, type ImageRecord, type RecordStore } from "../../handlers/lib/storage/records.js";
import type { Selection } from "./args.js";

/** Only images with a final state are reprocessed: a pending or processing image is made under the current settings anyway. */
function reprocessable(record: ImageRecord | undefined): record is ImageRecord {
  return record !== undefined && !isTombstone(record) && (record.status === "done" || record.status === "failed");
}

/** The records a selection chooses (a Scan of the table, or a GetItem per `--id`), and the ids it had to skip. */
export async function selectRecords(
  store: RecordStore,
  selection: Selection,
): Promise<{ records: ImageRecord[]; skipped: Array<{ id: string; reason: string }> }> {
  if (selection.kind === "ids") {
    const records: ImageRecord[] = [];
    const skipped: Array<{ id: string; reason: string }> = [];
    for (const id of selection.ids) {
      const { Item } = await store.client.send(new GetCommand({ TableName: store.tableName, Key: { id } }));
      const record = Item as ImageRecord | undefined;
      if (reprocessable(record)) records.push(record);
      else
        skipped.push({
          id,
          reason: record && !isTombstone(record) ? `status ${(record as ImageRecord).status}` : "no such image",
        });
    }
    return { records, skipped };
  }
  const records: ImageRecord[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await store.client.send(
      new ScanCommand({ TableName: store.tableName, ...(start ? { ExclusiveStartKey: start } : {}) }),
    );
    for (const item of (page.Items ?? []) as ImageRecord[]) {
      if (!reprocessable(item)) continue;
      if (selection.kind === "failed" && item.status !== "failed") continue;
      if (selection.kind === "since" && item.createdAt < selection.since) continue;
      records.push(item);
    }
    start = page.LastEvaluatedKey;
  } while (start);
  records.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  return { records, skipped: [] };
}

/** The records of `ids` as they are now (absent: deleted), 100 keys per BatchGetItem. */
export async function readRecords(store: RecordStore, ids: string[]): Promise<Map<string, ImageRecord | undefined>> {
  const found = new Map<string, ImageRecord | undefined>(ids.map((id) => [id, undefined]));
  for (let i = 0; i < ids.length; i += 100) {
    let keys: Array<Record<string, unknown>> | undefined = ids.slice(i, i + 100).map((id) => ({ id }));
    while (keys && keys.length > 0) {
      const result: BatchGetCommandOutput = await store.client.send(
        new BatchGetCommand({
          RequestItems: {
            [store.tableName]: {
              Keys: keys,
              ProjectionExpression: "id, #status, reprocess, generation",
              ExpressionAttributeNames: { "#status": "status" },
            },
          },
        }),
      );
      for (const item of (result.Responses?.[store.tableName] ?? []) as ImageRecord[]) found.set(item.id, item);
      keys = result.UnprocessedKeys?.[store.tableName]?.Keys;
    }
  }
  return found;
}
