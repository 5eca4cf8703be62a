import { setTimeout as sleep } from "node:timers/promises";
import { CreateTableCommand, DescribeTableCommand, ResourceInUseException, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { FILENAME_INDEX, FILENAME_INDEX_KEYS, OWNER_INDEX, OWNER_INDEX_KEYS } from "../handlers/lib/records.js";

/**
 * Creates the image table as the Pulumi program declares it (key `id`), with both of its optional indexes
 * (`byFilename` for legacyApi, `byOwner` for token mode) whatever the settings, if it is absent. Returns the
 * names of the indexes the table has (one made before an index existed keeps its old shape: dynalite cannot add
 * an index to a table).
 */
export async function ensureImageTable(client: DynamoDBClient, tableName: string): Promise<string[]> {
  const index = (name: string, keys: { partition: string; sort: string }) => ({
    IndexName: name,
    KeySchema: [
      { AttributeName: keys.partition, KeyType: "HASH" as const },
      { AttributeName: keys.sort, KeyType: "RANGE" as const },
    ],
    Projection: { ProjectionType: "ALL" as const },
  });
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [
          { AttributeName: "id", AttributeType: "S" },
          { AttributeName: FILENAME_INDEX_KEYS.partition, AttributeType: "S" },
          { AttributeName: FILENAME_INDEX_KEYS.sort, AttributeType: "S" },
          { AttributeName: OWNER_INDEX_KEYS.partition, AttributeType: "S" },
        ],
        KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
        GlobalSecondaryIndexes: [index(FILENAME_INDEX, FILENAME_INDEX_KEYS), index(OWNER_INDEX, OWNER_INDEX_KEYS)],
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  for (let i = 0; i < 100; i++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const indexes = Table?.GlobalSecondaryIndexes ?? [];
    if (Table?.TableStatus === "ACTIVE" && indexes.every((ix) => ix.IndexStatus === "ACTIVE")) return indexes.map((ix) => ix.IndexName!);
    await sleep(50);
  }
  throw new Error(`DynamoDB table ${tableName} did not become ACTIVE`);
}
