import { CreateTableCommand, DescribeTableCommand, ResourceInUseException, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { FILENAME_INDEX, FILENAME_INDEX_KEYS } from "../handlers/lib/records.js";
import { until } from "./until.js";

/** Creates the image table as the Pulumi program declares it (key `id`, the filename index), if it is absent. */
export async function ensureImageTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [
          { AttributeName: "id", AttributeType: "S" },
          { AttributeName: FILENAME_INDEX_KEYS.partition, AttributeType: "S" },
          { AttributeName: FILENAME_INDEX_KEYS.sort, AttributeType: "S" },
        ],
        KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
        GlobalSecondaryIndexes: [
          {
            IndexName: FILENAME_INDEX,
            KeySchema: [
              { AttributeName: FILENAME_INDEX_KEYS.partition, KeyType: "HASH" },
              { AttributeName: FILENAME_INDEX_KEYS.sort, KeyType: "RANGE" },
            ],
            Projection: { ProjectionType: "ALL" },
          },
        ],
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  await until(
    async () => {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
      const indexesActive = (Table?.GlobalSecondaryIndexes ?? []).every((index) => index.IndexStatus === "ACTIVE");
      return Table?.TableStatus === "ACTIVE" && indexesActive;
    },
    5_000,
    `DynamoDB table ${tableName} to become ACTIVE`,
  );
}
