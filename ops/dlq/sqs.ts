import { GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";

/** The one method of the SQS client these functions use, so tests can hand in a double that records calls. */
export type SqsSender = Pick<SQSClient, "send">;

export interface QueueDepth {
  /** Messages ready to receive. */
  visible: number;
  /** Messages received by someone and not yet deleted or released. */
  inFlight: number;
}

export async function queueDepth(sqs: SqsSender, queueUrl: string): Promise<QueueDepth> {
  const result = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return {
    visible: Number(result.Attributes?.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(result.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}

export async function queueArn(sqs: SqsSender, queueUrl: string): Promise<string> {
  const result = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }));
  const arn = result.Attributes?.QueueArn;
  if (!arn) throw new Error(`SQS returned no QueueArn for ${queueUrl}`);
  return arn;
}
