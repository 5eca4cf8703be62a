/**
 * What IAM authorises for each AWS API operation the code sends: the action, the resource ARN(s) in the shape
 * the stack's resources have, and the condition keys the request itself carries. Service authorization
 * reference: https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html
 *
 * ADDING A CALL: one line in OPERATIONS below, keyed `<iam prefix>:<operation>` (the SDK command's name without
 * `Command`). A call with no line here fails the proof, naming the line to add. A new service also needs its
 * SDK serviceId in IAM_PREFIX.
 */

export type RequestInput = Record<string, any>;

/** Where a call is made: the account and the client's region, as the ARNs carry them. */
export interface CallTarget {
  account: string;
  region: string;
}

export interface IamOperation {
  action: string;
  resources: (input: RequestInput, target: CallTarget) => string[];
  /** Condition keys the request carries (besides aws:SecureTransport, which every call has). */
  context?: (input: RequestInput) => Record<string, string | string[]>;
}

/** The SDK's serviceId (client.config.serviceId) -> IAM's service prefix. */
export const IAM_PREFIX: Record<string, string> = {
  S3: "s3",
  DynamoDB: "dynamodb",
  EventBridge: "events",
  SQS: "sqs",
  CloudFront: "cloudfront",
  SSM: "ssm",
  "Secrets Manager": "secretsmanager",
  KMS: "kms",
};

const object = (i: RequestInput) => [`arn:aws:s3:::${i.Bucket}/${i.Key}`];
const bucket = (i: RequestInput) => [`arn:aws:s3:::${i.Bucket}`];
/** A table, or the index a Query or Scan names (`table/T/index/I`). */
const table = (i: RequestInput, t: CallTarget) => [
  `arn:aws:dynamodb:${t.region}:${t.account}:table/${i.TableName}${i.IndexName ? `/index/${i.IndexName}` : ""}`,
];
/** The queue a QueueUrl names (`https://sqs.<region>.amazonaws.com/<account>/<name>`, or a stand-in's `/<account>/<name>`). */
export const queueArnOf = (url: string, t: CallTarget) =>
  `arn:aws:sqs:${t.region}:${t.account}:${new URL(url).pathname.split("/").filter(Boolean).at(-1)}`;
const queue = (i: RequestInput, t: CallTarget) => [queueArnOf(i.QueueUrl, t)];
const busArn = (name: string | undefined, t: CallTarget) =>
  name?.startsWith("arn:") ? name : `arn:aws:events:${t.region}:${t.account}:event-bus/${name ?? "default"}`;
const prefixOf = (i: RequestInput): Record<string, string> =>
  i.Prefix === undefined ? {} : { "s3:prefix": String(i.Prefix) };

export const OPERATIONS: Record<string, IamOperation> = {
  // S3: HeadObject is authorised as GetObject; ListObjectsV2 as ListBucket on the bucket, with its prefix.
  "s3:HeadObject": { action: "s3:GetObject", resources: object },
  "s3:GetObject": { action: "s3:GetObject", resources: object },
  "s3:PutObject": { action: "s3:PutObject", resources: object },
  "s3:CopyObject": { action: "s3:PutObject", resources: object },
  "s3:DeleteObject": { action: "s3:DeleteObject", resources: object },
  "s3:ListObjectsV2": { action: "s3:ListBucket", resources: bucket, context: prefixOf },
  // DynamoDB (the document client's commands arrive here as the low-level ones): a Query on an index is on the index.
  "dynamodb:GetItem": { action: "dynamodb:GetItem", resources: table },
  "dynamodb:PutItem": { action: "dynamodb:PutItem", resources: table },
  "dynamodb:UpdateItem": { action: "dynamodb:UpdateItem", resources: table },
  "dynamodb:DeleteItem": { action: "dynamodb:DeleteItem", resources: table },
  "dynamodb:Query": { action: "dynamodb:Query", resources: table },
  "dynamodb:Scan": { action: "dynamodb:Scan", resources: table },
  // BatchGetItem is authorised on each table its RequestItems name.
  "dynamodb:BatchGetItem": {
    action: "dynamodb:BatchGetItem",
    resources: (i, t) =>
      Object.keys(i.RequestItems as object).map((name) => `arn:aws:dynamodb:${t.region}:${t.account}:table/${name}`),
  },
  // EventBridge: PutEvents is on each bus its entries name.
  "events:PutEvents": {
    action: "events:PutEvents",
    resources: (i, t) => [
      ...new Set((i.Entries as Array<{ EventBusName?: string }>).map((e) => busArn(e.EventBusName, t))),
    ],
  },
  // CloudFront (a global service: no region in the ARN).
  "cloudfront:CreateInvalidation": {
    action: "cloudfront:CreateInvalidation",
    resources: (i, t) => [`arn:aws:cloudfront::${t.account}:distribution/${i.DistributionId}`],
  },
  // SQS (the DLQ operator's, and the event source mapping's).
  "sqs:ReceiveMessage": { action: "sqs:ReceiveMessage", resources: queue },
  "sqs:SendMessage": { action: "sqs:SendMessage", resources: queue },
  "sqs:SendMessageBatch": { action: "sqs:SendMessage", resources: queue },
  "sqs:DeleteMessage": { action: "sqs:DeleteMessage", resources: queue },
  "sqs:DeleteMessageBatch": { action: "sqs:DeleteMessage", resources: queue },
  "sqs:ChangeMessageVisibility": { action: "sqs:ChangeMessageVisibility", resources: queue },
  "sqs:ChangeMessageVisibilityBatch": { action: "sqs:ChangeMessageVisibility", resources: queue },
  "sqs:GetQueueAttributes": { action: "sqs:GetQueueAttributes", resources: queue },
  "sqs:StartMessageMoveTask": {
    action: "sqs:StartMessageMoveTask",
    resources: (i, t) => [queueArnOf(`https://x/${String(i.SourceArn).split(":").at(-1)}`, t)],
  },
  "sqs:ListMessageMoveTasks": {
    action: "sqs:ListMessageMoveTasks",
    resources: (i, t) => [queueArnOf(`https://x/${String(i.SourceArn).split(":").at(-1)}`, t)],
  },
  // Secrets, for the calls coming (a signing key read by the API).
  "ssm:GetParameter": {
    action: "ssm:GetParameter",
    resources: (i, t) => [`arn:aws:ssm:${t.region}:${t.account}:parameter/${String(i.Name).replace(/^\//, "")}`],
  },
  "secretsmanager:GetSecretValue": {
    action: "secretsmanager:GetSecretValue",
    resources: (i, t) => [
      String(i.SecretId).startsWith("arn:")
        ? i.SecretId
        : `arn:aws:secretsmanager:${t.region}:${t.account}:secret:${i.SecretId}-AbCdEf`,
    ],
  },
  "kms:Decrypt": {
    action: "kms:Decrypt",
    resources: (i, t) => [String(i.KeyId ?? `arn:aws:kms:${t.region}:${t.account}:key/unknown`)],
  },
};
