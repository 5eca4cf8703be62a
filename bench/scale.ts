import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pLimit from "p-limit";
import type { Settings } from "../handlers/lib/config/settings.js";
import { startLocalPipeline } from "../local/pipeline.js";
import { createRequestMeter, indexWriteUnits, type RequestCounts } from "../local/stand-ins/request-meter.js";
import type { CorpusImage } from "./corpus.js";
import { uploadableFiles, uploadOne } from "./end-to-end.js";

/**
 * Requests per image, counted: uploads through the local runtime (the handlers' own code and SDK clients, the
 * stand-ins behind them) with every client instrumented (local/stand-ins/request-meter.ts). These are the inputs of the
 * cost table and of the capacity plan (docs/capacity.md).
 */
export interface PerImageRequests {
  /** Variant objects written (PutObject), per image. */
  s3Put: number;
  /** The browser's form POST of the original (one per upload; sent by the client, not an SDK call). */
  s3Post: number;
  s3Get: number;
  s3Head: number;
  /** Any other S3 call (ListObjectsV2 for a missing original, ...). */
  s3Other: number;
  sqs: number;
  /** Record writes (the API's pending, the processor's), and their table write units, counted by DynamoDB's rule. */
  dynamoWrites: number;
  writeUnits: number;
  /** What the byFilename index adds where legacyApi is on (projection ALL: the same units again). */
  indexWriteUnitsWithLegacyApi: number;
  /** Reads, dominated by the client polling GET /images/{id} every 100 ms. */
  dynamoReads: number;
}

export interface ScaleBench {
  uploads: number;
  done: number;
  files: string[];
  counts: RequestCounts;
  perImage: PerImageRequests;
  /** Variants per image by settings, and objects actually written per image (identical variants share one). */
  variantsPerImage: number;
  allDone: boolean;
}

function sum(table: Record<string, number>, names?: string[]): number {
  return Object.entries(table)
    .filter(([name]) => names === undefined || names.includes(name))
    .reduce((total, [, n]) => total + n, 0);
}

export async function benchScale(input: {
  corpus: CorpusImage[];
  settings: Settings;
  uploads: number;
  clients: number;
  stackDir: string;
  log: (line: string) => void;
}): Promise<ScaleBench> {
  const files = await uploadableFiles(input.corpus, input.settings);
  const meter = createRequestMeter();
  const dataDir = await mkdtemp(join(tmpdir(), "bench-scale-"));
  const pipeline = await startLocalPipeline({
    port: 0,
    dataDir,
    stackDir: input.stackDir,
    settings: input.settings,
    meter,
  });
  let outcomes;
  try {
    // Only what the uploads cause: setting up buckets, queues and the table is not per image.
    meter.reset();
    const limit = pLimit(input.clients);
    outcomes = await Promise.all(
      Array.from({ length: input.uploads }, (_, i) => limit(() => uploadOne(pipeline.url, files[i % files.length]!))),
    );
  } finally {
    await pipeline.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
  const counts = meter.snapshot();
  const done = outcomes.filter((o) => o.status === "done").length;
  for (const o of outcomes.filter((o) => o.status !== "done"))
    input.log(`  scale: not done: ${o.file} ${o.status} ${o.error ?? ""}`);
  const per = (n: number) => n / Math.max(1, done);
  const s3Known = ["PutObjectCommand", "GetObjectCommand", "HeadObjectCommand"];
  const writes = sum(counts.dynamodb, ["PutItemCommand", "UpdateItemCommand", "DeleteItemCommand"]);
  const perImage: PerImageRequests = {
    s3Put: per(counts.s3.PutObjectCommand ?? 0),
    s3Post: per(input.uploads),
    s3Get: per(counts.s3.GetObjectCommand ?? 0),
    s3Head: per(counts.s3.HeadObjectCommand ?? 0),
    s3Other: per(sum(counts.s3) - sum(counts.s3, s3Known)),
    sqs: per(sum(counts.sqs)),
    dynamoWrites: per(writes),
    writeUnits: per(counts.writeUnits),
    indexWriteUnitsWithLegacyApi: per(indexWriteUnits(counts, true)),
    dynamoReads: per(sum(counts.dynamodb) - writes),
  };
  input.log(
    `scale: ${done}/${input.uploads} done; per image ${perImage.s3Put.toFixed(2)} PUTs, ${perImage.writeUnits.toFixed(2)} write units (+${perImage.indexWriteUnitsWithLegacyApi.toFixed(2)} with legacyApi)`,
  );
  return {
    uploads: input.uploads,
    done,
    files: files.map((f) => f.name),
    counts,
    perImage,
    variantsPerImage: input.settings.variants.length,
    allDone: done === input.uploads,
  };
}
