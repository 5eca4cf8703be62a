/**
 * The type tokens of this project's ComponentResources, in one place (as awsx keeps them in `local/stand-ins/resources.ts`).
 * A token is part of every child's URN: renaming one replaces the resources beneath it, so change them only
 * together with an alias.
 */
export const ResourceTypes = {
  ImagePipeline: "image-pipeline:index:ImagePipeline",
  PrivateBucket: "image-pipeline:storage:PrivateBucket",
  ImageTable: "image-pipeline:storage:ImageTable",
  JobQueue: "image-pipeline:queue:JobQueue",
  DeadLetterAlarm: "image-pipeline:queue:DeadLetterAlarm",
  LambdaFunction: "image-pipeline:compute:LambdaFunction",
  ImageProcessor: "image-pipeline:compute:ImageProcessor",
  HttpApi: "image-pipeline:compute:HttpApi",
  CdnDistribution: "image-pipeline:edge:CdnDistribution",
  RateLimitAcl: "image-pipeline:edge:RateLimitAcl",
  VariantSigningKey: "image-pipeline:edge:VariantSigningKey",
  CostBudget: "image-pipeline:operations:CostBudget",
  CompletionEvents: "image-pipeline:events:CompletionEvents",
  Operations: "image-pipeline:operations:Operations",
} as const;

export type ResourceType = (typeof ResourceTypes)[keyof typeof ResourceTypes];
