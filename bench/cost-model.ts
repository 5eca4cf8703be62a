import type { Architecture, Settings } from "../handlers/lib/settings.js";

/**
 * What one million images cost to process on AWS, estimated from the CPU time an image took here.
 *
 * The prices are constants: AWS's published on-demand prices for us-east-1 as of PRICES_AS_OF, without free
 * tiers or volume discounts. Check them against the current price pages (aws.amazon.com/lambda/pricing,
 * /s3/pricing, /sqs/pricing, /dynamodb/pricing) before relying on the figure.
 */
export const PRICES_AS_OF = "2024-12";
export const PRICES = {
  lambdaGbSecond: { arm64: 0.0000133334, x86_64: 0.0000166667 } satisfies Record<Architecture, number>,
  lambdaPerRequest: 0.2 / 1e6,
  /** S3 Standard: PUT, COPY, POST, LIST per request; GET per request. */
  s3Put: 0.005 / 1000,
  s3Get: 0.0004 / 1000,
  /** SQS standard queue, per request (64 KB chunk). */
  sqsRequest: 0.4 / 1e6,
  /** DynamoDB on-demand, per write request unit (the price after the November 2024 reduction). */
  dynamoWriteUnit: 0.625 / 1e6,
} as const;

/** Lambda allocates CPU in proportion to memory: one full vCPU at 1,769 MB. */
export const MB_PER_VCPU = 1769;
/** The record's final write (variants, data-URI placeholder) is estimated at 2 KB, so 2 write units. */
const FINAL_WRITE_UNITS = 2;

export interface CostLine {
  item: string;
  perImage: string;
  perMillion: number;
}

export interface CostEstimate {
  pricesAsOf: string;
  architecture: Architecture;
  memoryMb: number;
  vcpuShare: number;
  cpuMsPerImage: number;
  lambdaMsPerImage: number;
  lines: CostLine[];
  totalPerMillion: number;
  assumptions: string[];
}

export function estimateCost(input: { cpuMsPerImage: number; settings: Settings; architecture?: Architecture }): CostEstimate {
  const { settings } = input;
  const architecture = input.architecture ?? settings.processor.architecture;
  const memoryMb = settings.processor.memoryMb;
  const batchSize = settings.processor.batchSize;
  const variants = settings.variants.length;
  const vcpuShare = memoryMb / MB_PER_VCPU;
  const lambdaMsPerImage = input.cpuMsPerImage / vcpuShare;
  const gbSeconds = (lambdaMsPerImage / 1000) * (memoryMb / 1024);
  const million = 1e6;
  const writeUnits = 2 * (1 + 1 + FINAL_WRITE_UNITS); // each write lands in the table and in its ALL-projected index
  const sqsRequests = 1 + 2 / batchSize;
  const lines: CostLine[] = [
    {
      item: `Lambda compute (${architecture}, ${memoryMb} MB)`,
      perImage: `${gbSeconds.toFixed(3)} GB-s`,
      perMillion: gbSeconds * PRICES.lambdaGbSecond[architecture] * million,
    },
    { item: `Lambda requests (batches of ${batchSize})`, perImage: `${(1 / batchSize).toFixed(2)} invocations`, perMillion: (PRICES.lambdaPerRequest / batchSize) * million },
    { item: "S3 PUT/POST (original + variants)", perImage: `${1 + variants} requests`, perMillion: (1 + variants) * PRICES.s3Put * million },
    { item: "S3 GET (processor reads the original)", perImage: "1 request", perMillion: PRICES.s3Get * million },
    { item: "SQS (notification, receive and delete per batch)", perImage: `${sqsRequests.toFixed(2)} requests`, perMillion: sqsRequests * PRICES.sqsRequest * million },
    { item: "DynamoDB writes (pending, processing, done; table + index)", perImage: `${writeUnits} write units`, perMillion: writeUnits * PRICES.dynamoWriteUnit * million },
  ];
  return {
    pricesAsOf: PRICES_AS_OF,
    architecture,
    memoryMb,
    vcpuShare,
    cpuMsPerImage: input.cpuMsPerImage,
    lambdaMsPerImage,
    lines,
    totalPerMillion: lines.reduce((sum, line) => sum + line.perMillion, 0),
    assumptions: [
      `prices: AWS us-east-1 on-demand list prices as of ${PRICES_AS_OF}, constants in bench/cost-model.ts; no free tier; check the current price pages`,
      `CPU share scales with memory (1 vCPU at ${MB_PER_VCPU} MB): ${memoryMb} MB gets ${vcpuShare.toFixed(2)} vCPU, so an image's Lambda time = its CPU time here / ${vcpuShare.toFixed(2)}`,
      `a Lambda vCPU (${architecture}) is as fast per core as this machine's; Graviton and this CPU differ, so treat the compute line as +/- 30%`,
      "CPU time measured for the bench's corpus mix; waiting on S3 and DynamoDB, cold starts and retries are not included (compute is a lower bound)",
      `full batches of ${batchSize}; idle SQS polling, storage, data transfer, CloudWatch logs, the API function and viewers' GETs are not included`,
    ],
  };
}
