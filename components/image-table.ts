import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { EXPIRES_AT_ATTRIBUTE, FILENAME_INDEX, FILENAME_INDEX_KEYS } from "../handlers/lib/records.js";
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
}

/**
 * The image records (handlers/lib/records.ts): on-demand, key `id`, point-in-time recovery, TTL on `expiresAt`
 * (abandoned upload grants disappear), and, with `filenameIndex`, the `byFilename` index (filename + createdAt)
 * the original project's `GET /get-processed-image-url` needs. local/image-table.ts creates the same shape for
 * the local runtime (with the index always: dynalite has no TTL, see local/expired-grants.ts).
 */
export class ImageTable extends pulumi.ComponentResource {
  readonly table: aws.dynamodb.Table;
  readonly name: pulumi.Output<string>;
  readonly arn: pulumi.Output<string>;
  /** The ARN of the `byFilename` index, for Query permissions; only with `filenameIndex`. */
  readonly filenameIndexArn?: pulumi.Output<string>;

  constructor(name: string, args: ImageTableArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super(ResourceTypes.ImageTable, name, {}, opts);
    const filenameIndex = args.filenameIndex ?? false;
    this.table = new aws.dynamodb.Table(
      name,
      {
        billingMode: "PAY_PER_REQUEST",
        hashKey: "id",
        attributes: filenameIndex
          ? [
              { name: "id", type: "S" },
              { name: FILENAME_INDEX_KEYS.partition, type: "S" },
              { name: FILENAME_INDEX_KEYS.sort, type: "S" },
            ]
          : [{ name: "id", type: "S" }],
        globalSecondaryIndexes: filenameIndex
          ? [
              {
                name: FILENAME_INDEX,
                keySchemas: [
                  { attributeName: FILENAME_INDEX_KEYS.partition, keyType: "HASH" },
                  { attributeName: FILENAME_INDEX_KEYS.sort, keyType: "RANGE" },
                ],
                projectionType: "ALL",
              },
            ]
          : undefined,
        ttl: { attributeName: EXPIRES_AT_ATTRIBUTE, enabled: true },
        pointInTimeRecovery: { enabled: true },
        deletionProtectionEnabled: args.deletionProtection ?? false,
      },
      { parent: this },
    );
    this.name = this.table.name;
    this.arn = this.table.arn;
    if (filenameIndex) this.filenameIndexArn = pulumi.interpolate`${this.table.arn}/index/${FILENAME_INDEX}`;
    this.registerOutputs({ name: this.name, arn: this.arn });
  }
}
