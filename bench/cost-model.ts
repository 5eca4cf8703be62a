import type { Architecture, Settings } from "../handlers/lib/config/settings.js";
import type { PerImageRequests } from "./scale.js";

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
/**
 * Without a counted run (bench --only scale), what test/handlers/processor-requests.test.ts pins for one image:
 * three record writes of 1, 1 and 2 write units (the done record, with every variant's objects, is over 1 KB), a
 * HEAD and a GET of the original, a PUT per variant and format (fewer when variants come out identical) and, with
 * `delivery: cdn`, one per variant and stack format for the negotiated objects, S3's notification plus the
 * mapping's receive and delete per batch.
 */
function assumedRequests(settings: Settings): PerImageRequests {
  return {
    s3Put:
      settings.variants.reduce((sum, v) => sum + (v.formats?.length ?? 1), 0) +
      (settings.delivery === "cdn" ? settings.variants.length * settings.formats.length : 0),
    s3Post: 1,
    s3Get: 1,
    s3Head: 1,
    s3Other: 0,
    sqs: 1 + 2 / settings.processor.batchSize,
    dynamoWrites: 3,
    writeUnits: 4,
    indexWriteUnitsWithLegacyApi: 4,
    dynamoReads: 0,
  };
}

export interface CostLine {
  item: string;
  perImage: string;
  perMillion: number;
}

export interface CostEstimate {
  pricesAsOf: string;
  /** Whether the request lines come from a counted run (bench --only scale) or from assumedRequests. */
  requestsCounted: boolean;
  architecture: Architecture;
  memoryMb: number;
  vcpuShare: number;
  cpuMsPerImage: number;
  lambdaMsPerImage: number;
  lines: CostLine[];
  totalPerMillion: number;
  assumptions: string[];
}

export function estimateCost(input: {
  cpuMsPerImage: number;
  settings: Settings;
  architecture?: Architecture;
  requests?: PerImageRequests;
}): CostEstimate {
  const { settings } = input;
  const architecture = input.architecture ?? settings.processor.architecture;
  const memoryMb = settings.processor.memoryMb;
  const batchSize = settings.processor.batchSize;
  const requests = input.requests ?? assumedRequests(settings);
  const vcpuShare = memoryMb / MB_PER_VCPU;
  const lambdaMsPerImage = input.cpuMsPerImage / vcpuShare;
  const gbSeconds = (lambdaMsPerImage / 1000) * (memoryMb / 1024);
  const million = 1e6;
  const writeUnits = requests.writeUnits + (settings.legacyApi ? requests.indexWriteUnitsWithLegacyApi : 0);
  const puts = requests.s3Put + requests.s3Post;
  const gets = requests.s3Get + requests.s3Head;
  const how = input.requests ? "counted" : "assumed";
  const lines: CostLine[] = [
    {
      item: `Lambda compute (${architecture}, ${memoryMb} MB)`,
      perImage: `${gbSeconds.toFixed(3)} GB-s`,
      perMillion: gbSeconds * PRICES.lambdaGbSecond[architecture] * million,
    },
    {
      item: `Lambda requests (batches of ${batchSize})`,
      perImage: `${(1 / batchSize).toFixed(2)} invocations`,
      perMillion: (PRICES.lambdaPerRequest / batchSize) * million,
    },
    {
      item: `S3 PUT/POST (original + distinct variants, ${how})`,
      perImage: `${puts.toFixed(2)} requests`,
      perMillion: puts * PRICES.s3Put * million,
    },
    {
      item: `S3 GET/HEAD (processor reads the original, ${how})`,
      perImage: `${gets.toFixed(2)} requests`,
      perMillion: gets * PRICES.s3Get * million,
    },
    {
      item: `SQS (notification, receives and deletes, ${how})`,
      perImage: `${requests.sqs.toFixed(2)} requests`,
      perMillion: requests.sqs * PRICES.sqsRequest * million,
    },
    {
      item: `DynamoDB writes (pending, processing, done${settings.legacyApi ? "; + byFilename index" : "; no index"}, ${how})`,
      perImage: `${writeUnits.toFixed(2)} write units`,
      perMillion: writeUnits * PRICES.dynamoWriteUnit * million,
    },
  ];
  return {
    pricesAsOf: PRICES_AS_OF,
    requestsCounted: input.requests !== undefined,
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
      input.requests
        ? `S3, SQS and DynamoDB requests counted per image on the SDK clients of a local run (bench --only scale), the browser's form POST included; DynamoDB write units by DynamoDB's size rule; SQS includes the mapping's polls while the run lasted`
        : `requests per image as test/handlers/processor-requests.test.ts pins them (run bench --only scale to count them); full batches of ${batchSize}`,
      "storage, data transfer, CloudWatch logs, the API function's compute and viewers' GETs are not included",
    ],
  };
}

/**
 * What serving variants to viewers costs, per delivery: AWS's on-demand list prices as of PRICES_AS_OF for
 * North America and Europe (CloudFront's PriceClass_100 edges; the first tier of data transfer, up to 10 TB a
 * month), without the free tiers (CloudFront: 1 TB and 10 million requests a month; S3: 100 GB out a month).
 */
export const DELIVERY_PRICES = {
  /** S3 to the internet, per GB (presigned GETs are served by S3 itself). */
  s3TransferOutGb: 0.09,
  /** CloudFront to the internet, per GB (North America and Europe). */
  cloudFrontTransferOutGb: 0.085,
  /** CloudFront HTTPS requests, per request ($0.0100 per 10,000 in North America and Europe). */
  cloudFrontHttpsRequest: 0.01 / 10_000,
  /** CloudFront Functions, per invocation (the viewer-request function on the API's paths only). */
  cloudFrontFunctionInvocation: 0.1 / 1e6,
  /** An invalidation path past the first 1,000 a month (a delete invalidates one: `/variants/{id}/*`). */
  cloudFrontInvalidationPath: 0.005,
  /** WAF: per web ACL and per rule a month, and per million requests inspected. */
  wafWebAclMonth: 5,
  wafRuleMonth: 1,
  wafRequest: 0.6 / 1e6,
} as const;

export interface DeliveryEstimate {
  delivery: "presigned" | "cdn";
  configured: boolean;
  lines: CostLine[];
  totalPerMillion: number;
  /** Monthly whatever the traffic (the web ACL and its rule), not included in the total. */
  fixedPerMonth: number;
  assumptions: string[];
}

/** The bench's view: one million views of a variant of `bytesPerView`, a share of them missing the CDN's cache. */
export function estimateDeliveryCost(input: {
  settings: Settings;
  bytesPerView: number;
  cacheHitRatio?: number;
}): DeliveryEstimate[] {
  const { settings, bytesPerView } = input;
  const hitRatio = input.cacheHitRatio ?? 0.95;
  const million = 1e6;
  const gbPerMillion = (bytesPerView * million) / 1e9;
  const kb = `${(bytesPerView / 1024).toFixed(0)} KB`;
  const presigned: CostLine[] = [
    { item: "S3 GET (each view)", perImage: "1 request", perMillion: PRICES.s3Get * million },
    {
      item: `S3 transfer out (${kb} a view)`,
      perImage: kb,
      perMillion: gbPerMillion * DELIVERY_PRICES.s3TransferOutGb,
    },
  ];
  const waf = settings.rateLimitPer5Minutes !== undefined;
  const cdn: CostLine[] = [
    {
      item: "CloudFront HTTPS requests",
      perImage: "1 request",
      perMillion: DELIVERY_PRICES.cloudFrontHttpsRequest * million,
    },
    {
      item: `CloudFront transfer out (${kb} a view)`,
      perImage: kb,
      perMillion: gbPerMillion * DELIVERY_PRICES.cloudFrontTransferOutGb,
    },
    {
      item: `S3 GET on a cache miss (${((1 - hitRatio) * 100).toFixed(0)}% of views)`,
      perImage: `${(1 - hitRatio).toFixed(2)} requests`,
      perMillion: (1 - hitRatio) * PRICES.s3Get * million,
    },
    ...(waf
      ? [{ item: "WAF requests inspected", perImage: "1 request", perMillion: DELIVERY_PRICES.wafRequest * million }]
      : []),
  ];
  const total = (lines: CostLine[]) => lines.reduce((sum, line) => sum + line.perMillion, 0);
  const common = [
    `prices: AWS list prices as of ${PRICES_AS_OF} for North America and Europe, first transfer tier, no free tier; constants in bench/cost-model.ts`,
    `a view downloads ${kb} (the bench's assumption, about a WebP preview); S3 to CloudFront transfer is free`,
  ];
  return [
    {
      delivery: "presigned",
      configured: settings.delivery === "presigned",
      lines: presigned,
      totalPerMillion: total(presigned),
      fixedPerMonth: 0,
      assumptions: common,
    },
    {
      delivery: "cdn",
      configured: settings.delivery === "cdn",
      lines: cdn,
      totalPerMillion: total(cdn),
      fixedPerMonth: waf ? DELIVERY_PRICES.wafWebAclMonth + DELIVERY_PRICES.wafRuleMonth : 0,
      assumptions: [
        ...common,
        `${(hitRatio * 100).toFixed(0)}% of views hit the edge cache (variants are immutable, so a popular image is fetched from S3 about once per edge)`,
        `the API's requests through CloudFront add ${money(DELIVERY_PRICES.cloudFrontHttpsRequest * million + DELIVERY_PRICES.cloudFrontFunctionInvocation * million)} per million (request and viewer-request function)`,
        `a delete's invalidation is free for the first 1,000 a month, then $${DELIVERY_PRICES.cloudFrontInvalidationPath} each`,
        waf
          ? `WAF: $${DELIVERY_PRICES.wafWebAclMonth + DELIVERY_PRICES.wafRuleMonth} a month (web ACL and its rule) whatever the traffic`
          : "no WAF (rateLimitPer5Minutes unset)",
      ],
    },
  ];
}

function money(x: number): string {
  return `$${x.toFixed(2)}`;
}

/**
 * The engine's CPU time per megapixel of original, from the bench's corpus mix (docs/performance.md, 2026-12-01,
 * machine A, `npm run bench -- --only engine`: 518 ms of CPU for 9.6 MP on average). A reprocess estimate scales
 * it by each image's own size.
 */
export const CPU_MS_PER_MEGAPIXEL = 518 / 9.6;

/** One image of a reprocess, as the estimate sees it from its record and the settings. */
export interface ReprocessImage {
  /** The original's pixels (width x height); unknown for an image that failed before its header was read. */
  pixels?: number;
  /** Variant objects the reprocess writes (new bytes) and deletes (no longer named). */
  writes: number;
  deletes: number;
}

export interface ReprocessEstimate {
  images: number;
  objectsWritten: number;
  objectsDeleted: number;
  /** HEAD and GET of each original, a PUT per object written, a DELETE per object deleted. */
  s3Requests: { head: number; get: number; put: number; delete: number; total: number };
  /** SendMessage per image, and the event source mapping's receive and delete per batch. */
  sqsRequests: number;
  /** The claim and the final write per image (each under 1 KB). */
  writeUnits: number;
  lambdaGbSeconds: number;
  /** This run's dollars, by item. */
  lines: Array<{ item: string; dollars: number }>;
  dollars: number;
  /** Sending at `rate`, and how long the processor takes at its maximum concurrency. */
  sendSeconds: number;
  processSeconds: number;
  assumptions: string[];
}

/**
 * What reprocessing `images` costs, by the same prices and CPU-share rule as estimateCost. S3 DELETE requests are
 * free; an image whose size is unknown is taken at the corpus's 9.6 MP.
 */
export function estimateReprocess(input: {
  settings: Settings;
  images: ReprocessImage[];
  rate: number;
}): ReprocessEstimate {
  const { settings, images, rate } = input;
  const { memoryMb, architecture, batchSize, maxConcurrency } = settings.processor;
  const vcpuShare = memoryMb / MB_PER_VCPU;
  const count = images.length;
  const writes = images.reduce((sum, image) => sum + image.writes, 0);
  const deletes = images.reduce((sum, image) => sum + image.deletes, 0);
  const megapixels = images.reduce((sum, image) => sum + (image.pixels ?? 9.6e6) / 1e6, 0);
  const lambdaSeconds = (megapixels * CPU_MS_PER_MEGAPIXEL) / vcpuShare / 1000;
  const lambdaGbSeconds = lambdaSeconds * (memoryMb / 1024);
  const s3Requests = { head: count, get: count, put: writes, delete: deletes, total: 2 * count + writes + deletes };
  const sqsRequests = count * (1 + 2 / batchSize);
  const writeUnits = 2 * count * (settings.legacyApi ? 2 : 1);
  const lines = [
    {
      item: `Lambda compute (${architecture}, ${memoryMb} MB, ${lambdaGbSeconds.toFixed(1)} GB-s)`,
      dollars: lambdaGbSeconds * PRICES.lambdaGbSecond[architecture],
    },
    { item: `Lambda requests (batches of ${batchSize})`, dollars: (count / batchSize) * PRICES.lambdaPerRequest },
    { item: `S3 PUT (${writes})`, dollars: writes * PRICES.s3Put },
    { item: `S3 GET and HEAD (${2 * count})`, dollars: 2 * count * PRICES.s3Get },
    { item: `S3 DELETE (${deletes}, free)`, dollars: 0 },
    { item: `SQS (${sqsRequests.toFixed(0)} requests)`, dollars: sqsRequests * PRICES.sqsRequest },
    { item: `DynamoDB (${writeUnits} write units)`, dollars: writeUnits * PRICES.dynamoWriteUnit },
  ];
  const processorImagesPerSecond = maxConcurrency / Math.max(1e-9, lambdaSeconds / Math.max(1, count));
  return {
    images: count,
    objectsWritten: writes,
    objectsDeleted: deletes,
    s3Requests,
    sqsRequests,
    writeUnits,
    lambdaGbSeconds,
    lines,
    dollars: lines.reduce((sum, line) => sum + line.dollars, 0),
    sendSeconds: count / rate,
    processSeconds: count / processorImagesPerSecond,
    assumptions: [
      `prices: AWS us-east-1 on-demand list prices as of ${PRICES_AS_OF} (bench/cost-model.ts), no free tier`,
      `CPU: ${CPU_MS_PER_MEGAPIXEL.toFixed(0)} ms per megapixel of original (the bench's corpus mix), at ${vcpuShare.toFixed(2)} vCPU for ${memoryMb} MB; HEIC originals take about 3x`,
      "objects written: variants that are new, or whose name, format or size changes; a quality change alone is not foreseen (the processor compares bytes and writes what changed)",
      "an original that is gone costs its HEAD only; storage, logs and the command's own reads of the table are not included",
    ],
  };
}
