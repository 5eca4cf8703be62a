import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  type DynamoDBClient,
} from "@aws-sdk/client-dynamodb";
import {
  FILENAME_INDEX,
  FILENAME_INDEX_KEYS,
  OWNER_INDEX,
  OWNER_INDEX_KEYS,
} from "../../handlers/lib/storage/records.js";
import { until } from "../until.js";

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
  let indexes: string[] = [];
  await until(
    async () => {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
      const found = Table?.GlobalSecondaryIndexes ?? [];
      indexes = found.map((ix) => ix.IndexName!);
      return Table?.TableStatus === "ACTIVE" && found.every((ix) => ix.IndexStatus === "ACTIVE");
    },
    5_000,
    `DynamoDB table ${tableName} to become ACTIVE`,
  );
  return indexes;
}
