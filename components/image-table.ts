import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  EXPIRES_AT_ATTRIBUTE,
  FILENAME_INDEX,
  FILENAME_INDEX_KEYS,
  OWNER_INDEX,
  OWNER_INDEX_KEYS,
} from "../handlers/lib/storage/records.js";
import { ResourceTypes } from "./resource-types.js";

export interface ImageTableArgs {
  /**
   * Refuse to delete the table (prod stacks); `pulumi destroy` fails until it is turned off.
   * @default false
   */
  deletionProtection?: pulumi.Input<boolean>;
  /**
   * The `byFilename` index, which only the original project's routes (`legacyApi`) read.
   * @default false
   */
  filenameIndex?: boolean;
  /**
   * The `byOwner` index (owner + createdAt) behind `GET /images` in token mode (`auth`).
   * @default false
   */
  ownerIndex?: boolean;
}

/**
 * The image records (handlers/lib/storage/records.ts): on-demand, key `id`, point-in-time recovery, TTL on `expiresAt`
 * (abandoned upload grants disappear), and, with `filenameIndex`, the `byFilename` index (filename + createdAt)
 * the original project's `GET /get-processed-image-url` needs. local/stand-ins/image-table.ts creates the same shape for
 * the local runtime (with the index always: dynalite has no TTL, see local/stand-ins/expired-grants.ts).
 */
export class ImageTable extends pulumi.ComponentResource {
  readonly table: aws.dynamodb.Table;
  readonly name: pulumi.Output<string>;
  readonly arn: pulumi.Output<string>;
  /** The ARN of the `byFilename` index, for Query permissions; only with `filenameIndex`. */
  readonly filenameIndexArn?: pulumi.Output<string>;
  /** The ARN of the `byOwner` index; only with `ownerIndex`. */
  readonly ownerIndexArn?: pulumi.Output<string>;

  constructor(name: string, args: ImageTableArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super(ResourceTypes.ImageTable, name, {}, opts);
    const filenameIndex = args.filenameIndex ?? false;
    const ownerIndex = args.ownerIndex ?? false;
    const index = (indexName: string, keys: { partition: string; sort: string }) => ({
      name: indexName,
      keySchemas: [
        { attributeName: keys.partition, keyType: "HASH" },
        { attributeName: keys.sort, keyType: "RANGE" },
      ],
      projectionType: "ALL",
    });
    const indexes = [
      ...(filenameIndex ? [index(FILENAME_INDEX, FILENAME_INDEX_KEYS)] : []),
      ...(ownerIndex ? [index(OWNER_INDEX, OWNER_INDEX_KEYS)] : []),
    ];
    // DynamoDB wants exactly the attributes some key or index uses.
    const attributeNames = ["id", ...new Set(indexes.flatMap((ix) => ix.keySchemas.map((k) => k.attributeName)))];
    this.table = new aws.dynamodb.Table(
      name,
      {
        billingMode: "PAY_PER_REQUEST",
        hashKey: "id",
        attributes: attributeNames.map((attribute) => ({ name: attribute, type: "S" })),
        globalSecondaryIndexes: indexes.length > 0 ? indexes : undefined,
        ttl: { attributeName: EXPIRES_AT_ATTRIBUTE, enabled: true },
        pointInTimeRecovery: { enabled: true },
        deletionProtectionEnabled: args.deletionProtection ?? false,
      },
      { parent: this },
    );
    this.name = this.table.name;
    this.arn = this.table.arn;
    if (filenameIndex) this.filenameIndexArn = pulumi.interpolate`${this.table.arn}/index/${FILENAME_INDEX}`;
    if (ownerIndex) this.ownerIndexArn = pulumi.interpolate`${this.table.arn}/index/${OWNER_INDEX}`;
    this.registerOutputs({ name: this.name, arn: this.arn });
  }
}
