import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { S3Client } from "@aws-sdk/client-s3";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

/**
 * Counts the requests the handlers' SDK clients really send, and the DynamoDB write units they consume, so the
 * cost table and the capacity plan (docs/capacity.md) come from counted requests rather than assumptions.
 *
 * Write units are DynamoDB's own figure: every write asks for ReturnConsumedCapacity TOTAL, which DynamoDB (and
 * dynalite, by the same rule: the larger of the item before and after, in 1 KB units) answers with the table's
 * units. A write whose condition fails still costs units on AWS but returns none: those are counted apart
 * (`conditionFailures`). Index units are not reported by dynalite; see indexWriteUnits.
 */
export interface RequestCounts {
  /** S3 commands sent, by name (PutObjectCommand, GetObjectCommand, HeadObjectCommand, ...). */
  s3: Record<string, number>;
  /** SQS commands sent, by name (SendMessageCommand, ReceiveMessageCommand, DeleteMessageBatchCommand, ...). */
  sqs: Record<string, number>;
  /** DynamoDB commands sent, by name (PutItemCommand, UpdateItemCommand, GetItemCommand, QueryCommand, ...). */
  dynamodb: Record<string, number>;
  /** Table write units of the writes that succeeded. */
  writeUnits: number;
  /** The same, per successful write, in order: what each write cost. */
  writes: Array<{ command: string; units: number }>;
  /** Writes refused by their condition (a duplicate or late event). */
  conditionFailures: number;
}

const WRITES = new Set(["PutItemCommand", "UpdateItemCommand", "DeleteItemCommand"]);

export interface RequestMeter {
  instrumentS3(client: S3Client): void;
  instrumentSqs(client: SQSClient): void;
  instrumentDynamoDb(client: DynamoDBClient | DynamoDBDocumentClient): void;
  /** A copy of the counts so far. */
  snapshot(): RequestCounts;
  reset(): void;
}

function empty(): RequestCounts {
  return { s3: {}, sqs: {}, dynamodb: {}, writeUnits: 0, writes: [], conditionFailures: 0 };
}

type Middleware = Parameters<S3Client["middlewareStack"]["add"]>[0];

export function createRequestMeter(): RequestMeter {
  let counts = empty();
  const bump = (table: Record<string, number>, name: string) => {
    table[name] = (table[name] ?? 0) + 1;
  };

  const counter =
    (service: "s3" | "sqs"): Middleware =>
    (next, context) =>
    async (args) => {
      bump(counts[service], String(context.commandName));
      return next(args);
    };
  const dynamoCounter: Middleware = (next, context) => async (args) => {
    const command = String(context.commandName);
    bump(counts.dynamodb, command);
    const input = args.input as { ReturnConsumedCapacity?: string };
    if (WRITES.has(command)) input.ReturnConsumedCapacity ??= "TOTAL";
    try {
      const result = await next(args);
      const consumed = (result.output as { ConsumedCapacity?: { CapacityUnits?: number } }).ConsumedCapacity;
      if (WRITES.has(command)) {
        const units = consumed?.CapacityUnits ?? 0;
        counts.writeUnits += units;
        counts.writes.push({ command, units });
      }
      return result;
    } catch (error) {
      if ((error as { name?: string }).name === "ConditionalCheckFailedException") counts.conditionFailures += 1;
      throw error;
    }
  };

  return {
    instrumentS3(client) {
      // At the deserialize step, per attempt actually sent: a presigned URL runs the stack only up to signing.
      client.middlewareStack.add(counter("s3") as never, { step: "deserialize", name: "requestMeterS3" });
    },
    instrumentSqs(client) {
      client.middlewareStack.add(counter("sqs") as never, { step: "deserialize", name: "requestMeterSqs" });
    },
    instrumentDynamoDb(client) {
      // A document client shares its middleware stack with the client it wraps: one registration counts both.
      (client as DynamoDBClient).middlewareStack.add(dynamoCounter as never, {
        step: "initialize",
        name: "requestMeterDynamoDb",
      });
    },
    snapshot() {
      return structuredClone(counts);
    },
    reset() {
      counts = empty();
    },
  };
}

/**
 * What the byFilename index adds: it projects ALL attributes and every record carries its keys (filename and
 * createdAt) from the first write, so each table write is also an index write of the same item, at the same
 * units (DynamoDB's rule for a global secondary index: a write that changes projected attributes writes the
 * index entry, sized like the item).
 */
export function indexWriteUnits(counts: RequestCounts, filenameIndex: boolean): number {
  return filenameIndex ? counts.writeUnits : 0;
}
