import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { DETAIL_TYPES, EVENT_SOURCE } from "../handlers/lib/contract/completion-events.js";
import { DLQ_RETENTION_SECONDS } from "../handlers/lib/contract/queue-timing.js";
import { ResourceTypes } from "./resource-types.js";

export interface WebhookArgs {
  /**
   * The receiver's HTTPS endpoint, without credentials. It should answer directly, never with a redirect: AWS
   * documents which statuses an API destination retries but not whether it follows a 3xx (docs/security.md), and
   * the secret header travels with each request. Events are retried each on its own, so order is not guaranteed.
   */
  url: string;
  /** The header that carries `secret` on every delivery. */
  headerName: string;
  /** The header's value (the config secret `webhookSecret`); kept secret in the state. */
  secret: pulumi.Input<string>;
  /**
   * Deliveries per second at most.
   * @default 10
   */
  rateLimitPerSecond?: number;
}

export interface CompletionEventsArgs {
  /**
   * Delivers each event as an HTTPS POST: connection (API-key auth), API destination, rule, retries for 24 h,
   * and a dead-letter queue of its own for deliveries that fail for good.
   * @default undefined (the bus only)
   */
  webhook?: WebhookArgs;
}

/** EventBridge retries a target for at most 24 h and 185 attempts; the webhook asks for all of it. */
export const WEBHOOK_RETRY_POLICY = { maximumEventAgeInSeconds: 24 * 3600, maximumRetryAttempts: 185 } as const;

/**
 * The stack's event bus for completion events (`Image Processed`, `Image Failed` from source `image-pipeline`,
 * published by the processor) and, optionally, the webhook that delivers them to the application's backend.
 */
export class CompletionEvents extends pulumi.ComponentResource {
  readonly bus: aws.cloudwatch.EventBus;
  readonly busName: pulumi.Output<string>;
  readonly busArn: pulumi.Output<string>;
  readonly connection?: aws.cloudwatch.EventConnection;
  readonly destination?: aws.cloudwatch.EventApiDestination;
  readonly rule?: aws.cloudwatch.EventRule;
  readonly target?: aws.cloudwatch.EventTarget;
  readonly deadLetterQueue?: aws.sqs.Queue;

  constructor(name: string, args: CompletionEventsArgs, opts?: pulumi.ComponentResourceOptions) {
    super(ResourceTypes.CompletionEvents, name, {}, opts);
    const parent = { parent: this };
    this.bus = new aws.cloudwatch.EventBus(name, {}, parent);
    this.busName = this.bus.name;
    this.busArn = this.bus.arn;

    const webhook = args.webhook;
    if (webhook) {
      this.connection = new aws.cloudwatch.EventConnection(
        `${name}-webhook`,
        {
          authorizationType: "API_KEY",
          authParameters: { apiKey: { key: webhook.headerName, value: pulumi.secret(webhook.secret) } },
        },
        parent,
      );
      this.destination = new aws.cloudwatch.EventApiDestination(
        `${name}-webhook`,
        {
          connectionArn: this.connection.arn,
          invocationEndpoint: webhook.url,
          httpMethod: "POST",
          invocationRateLimitPerSecond: webhook.rateLimitPerSecond ?? 10,
        },
        parent,
      );
      this.rule = new aws.cloudwatch.EventRule(
        `${name}-webhook`,
        {
          eventBusName: this.bus.name,
          eventPattern: JSON.stringify({ source: [EVENT_SOURCE], "detail-type": Object.values(DETAIL_TYPES) }),
        },
        parent,
      );
      this.deadLetterQueue = new aws.sqs.Queue(
        `${name}-webhook-dlq`,
        { messageRetentionSeconds: DLQ_RETENTION_SECONDS, sqsManagedSseEnabled: true },
        parent,
      );
      const rule = this.rule;
      // Only this rule's failed deliveries may land in the DLQ.
      const dlqPolicy = new aws.sqs.QueuePolicy(
        `${name}-webhook-dlq-policy`,
        {
          queueUrl: this.deadLetterQueue.url,
          policy: pulumi.jsonStringify({
            Version: "2012-10-17",
            Statement: [
              {
                Sid: "AllowWebhookRuleDeadLetters",
                Effect: "Allow",
                Principal: { Service: "events.amazonaws.com" },
                Action: "sqs:SendMessage",
                Resource: this.deadLetterQueue.arn,
                Condition: { ArnEquals: { "aws:SourceArn": rule.arn } },
              },
            ],
          }),
        },
        parent,
      );
      const role = new aws.iam.Role(
        `${name}-webhook-role`,
        {
          assumeRolePolicy: JSON.stringify({
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Principal: { Service: "events.amazonaws.com" }, Action: "sts:AssumeRole" }],
          }),
        },
        parent,
      );
      const rolePolicy = new aws.iam.RolePolicy(
        `${name}-webhook-policy`,
        {
          role: role.id,
          policy: pulumi.jsonStringify({
            Version: "2012-10-17",
            Statement: [
              {
                Sid: "InvokeWebhook",
                Effect: "Allow",
                Action: "events:InvokeApiDestination",
                Resource: this.destination.arn,
              },
            ],
          }),
        },
        parent,
      );
      this.target = new aws.cloudwatch.EventTarget(
        `${name}-webhook`,
        {
          eventBusName: this.bus.name,
          rule: rule.name,
          arn: this.destination.arn,
          roleArn: role.arn,
          retryPolicy: { ...WEBHOOK_RETRY_POLICY },
          deadLetterConfig: { arn: this.deadLetterQueue.arn },
        },
        // EventBridge checks the role and the DLQ's policy when the target is put.
        { parent: this, dependsOn: [rolePolicy, dlqPolicy] },
      );
    }
    this.registerOutputs({ busName: this.busName, busArn: this.busArn });
  }
}
