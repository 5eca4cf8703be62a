import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { processorEnvironment } from "../handlers/lib/config/function-environment.js";
import type { Settings } from "../handlers/lib/config/settings.js";
import { objectsUnder } from "./iam.js";
import { LambdaFunction } from "./lambda-function.js";
import { ResourceTypes } from "./resource-types.js";

export interface ImageProcessorArgs {
  settings: Settings;
  code: pulumi.Input<pulumi.asset.Archive>;
  uploads: { name: pulumi.Input<string>; arn: pulumi.Input<string>; prefix: string };
  variants: { name: pulumi.Input<string>; arn: pulumi.Input<string>; prefix: string };
  table: { name: pulumi.Input<string>; arn: pulumi.Input<string> };
  queue: { arn: pulumi.Input<string> };
  /**
   * The bus completion events are published to (PutEvents on it, its name in the environment).
   * @default undefined (nothing published)
   */
  events?: { busName: pulumi.Input<string>; busArn: pulumi.Input<string> };
}

/**
 * The batch consumer: a Lambda reading originals, writing variants and records, fed by an SQS event source
 * mapping that reports partial batch failures (only the failed messages are retried).
 */
export class ImageProcessor extends pulumi.ComponentResource {
  readonly function: LambdaFunction;
  readonly eventSourceMapping: aws.lambda.EventSourceMapping;

  constructor(name: string, args: ImageProcessorArgs, opts?: pulumi.ComponentResourceOptions) {
    super(ResourceTypes.ImageProcessor, name, {}, opts);
    const { settings } = args;
    const processor = settings.processor;

    this.function = new LambdaFunction(
      name,
      {
        code: args.code,
        handler: "process.handler",
        architecture: processor.architecture,
        memoryMb: processor.memoryMb,
        timeoutSeconds: processor.timeoutSeconds,
        logRetentionDays: processor.logRetentionDays,
        environment: processorEnvironment(settings, {
          uploadsBucket: args.uploads.name,
          variantsBucket: args.variants.name,
          tableName: args.table.name,
          // The metrics' `stack` dimension, which the stack's dashboard and alarms read (operations.ts).
          stack: pulumi.getStack(),
          ...(args.events ? { eventBusName: args.events.busName } : {}),
        }),
        statements: [
          {
            sid: "ReadOriginals",
            actions: ["s3:GetObject"],
            resources: [objectsUnder(args.uploads.arn, args.uploads.prefix)],
          },
          // Without ListBucket, S3 answers a deleted original with 403 instead of 404, and the processor could not
          // tell "gone" (final: original_missing) from "not allowed" (transient: retried, then the DLQ).
          // Listing is limited to the originals' prefix: the role never learns what else the bucket holds.
          {
            sid: "TellMissingOriginals",
            actions: ["s3:ListBucket"],
            resources: [args.uploads.arn],
            conditions: { StringLike: { "s3:prefix": [`${args.uploads.prefix}*`] } },
          },
          // An original whose image has no record, or a tombstone (a deleted pending image), is deleted unprocessed.
          {
            sid: "DiscardUngrantedOriginals",
            actions: ["s3:DeleteObject"],
            resources: [objectsUnder(args.uploads.arn, args.uploads.prefix)],
          },
          {
            sid: "WriteVariants",
            actions: ["s3:PutObject"],
            resources: [objectsUnder(args.variants.arn, args.variants.prefix)],
          },
          // A reprocess deletes the objects its image's record no longer names, once the record points elsewhere.
          {
            sid: "DropStaleVariants",
            actions: ["s3:DeleteObject"],
            resources: [objectsUnder(args.variants.arn, args.variants.prefix)],
          },
          { sid: "UpdateRecords", actions: ["dynamodb:GetItem", "dynamodb:UpdateItem"], resources: [args.table.arn] },
          {
            sid: "ConsumeJobs",
            actions: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
            resources: [args.queue.arn],
          },
          ...(args.events
            ? [{ sid: "PublishCompletionEvents", actions: ["events:PutEvents"], resources: [args.events.busArn] }]
            : []),
        ],
      },
      { parent: this },
    );

    this.eventSourceMapping = new aws.lambda.EventSourceMapping(
      `${name}-jobs`,
      {
        eventSourceArn: args.queue.arn,
        functionName: this.function.arn,
        batchSize: processor.batchSize,
        maximumBatchingWindowInSeconds: processor.batchWindowSeconds,
        functionResponseTypes: ["ReportBatchItemFailures"],
        scalingConfig: { maximumConcurrency: processor.maxConcurrency },
      },
      // Lambda checks the role's SQS permissions when the mapping is created.
      { parent: this, dependsOn: [this.function] },
    );
    this.registerOutputs({ functionArn: this.function.arn });
  }
}
