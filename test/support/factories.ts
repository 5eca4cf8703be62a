/**
 * The things under test, made one way (Powertools' tests/helpers/factories.ts): one factory per thing, wired to the
 * stand-ins, with the test's overrides as arguments. A test states only what it changes.
 */
import { GetObjectCommand, PutObjectCommand, S3ServiceException, type S3Client } from "@aws-sdk/client-s3";
import sharp from "sharp";
import type { ApiDeps } from "../../handlers/api/api-context.js";
import type { ApiHandler } from "../../handlers/api/create-api.js";
import { createApi } from "./openapi-responses.js";
import { parseSettings, type Settings } from "../../handlers/lib/config/settings.js";
import { createImageEngine, type ImageEngine } from "../../handlers/lib/image/engine.js";
import { newImageId, originalKey } from "../../handlers/lib/storage/keys.js";
import { createPendingRecord, getRecord, type ImageRecord } from "../../handlers/lib/storage/records.js";
import { createProcessor, OUTCOME_MESSAGE, type ProcessorDeps } from "../../handlers/processor/processor.js";
import { startStandIns, type StandIns } from "./stand-ins.js";

/** The API handler on the stand-ins; settings default to every default (parseSettings({})). */
export function apiUnderTest(standIns: StandIns, overrides: Partial<ApiDeps> = {}): ApiHandler {
  return createApi({
    s3: standIns.s3,
    records: standIns.records,
    settings: parseSettings({}),
    uploadsBucket: standIns.uploadsBucket,
    variantsBucket: standIns.variantsBucket,
    ...overrides,
  });
}

export type LogLine = { level: string; message: string } & Record<string, unknown>;

/** A logger with the three methods the handlers use, keeping every line with its attributes. */
export function captureLogger() {
  const lines: LogLine[] = [];
  const at = (level: string) => (message: string, attributes: Record<string, unknown>) => {
    lines.push({ level, message, ...attributes });
  };
  return { logger: { info: at("info"), warn: at("warn"), error: at("error") }, lines };
}

/** An S3 client that records every command and lets a test fail chosen ones. */
export function interceptedS3(
  real: S3Client,
  intercept: (command: { input: Record<string, unknown> }, name: string) => void = () => {},
) {
  const commands: string[] = [];
  const s3 = {
    async send(command: { input: Record<string, unknown> }) {
      const name = command.constructor.name;
      commands.push(name);
      intercept(command, name);
      return real.send(command as never);
    },
  } as unknown as S3Client;
  return { s3, commands };
}

/** S3's throttling answer, a transient error. */
export function slowDown(): S3ServiceException {
  return new S3ServiceException({
    name: "SlowDown",
    $fault: "server",
    $metadata: { httpStatusCode: 503 },
    message: "Please reduce your request rate.",
  });
}

/** The processor's settings in these tests: two small variants of two formats, a 3 MiB upload limit. */
export function processorSettings(): Settings {
  return parseSettings({
    variants: [
      { name: "thumb", width: 160, format: "webp" },
      { name: "medium", width: 480, format: "jpeg" },
    ],
    maxUploadBytes: 3 * 1024 * 1024,
    processor: { imageConcurrency: 2 },
  });
}

export interface UploadOptions {
  id?: string;
  key?: string;
  /** Creates the pending record first, with this filename (as POST /uploads would). */
  pendingAs?: string;
  contentType?: string;
}

/**
 * The processor under test on real stand-ins (s3rver, dynalite) and real sharp, with what its tests do around it.
 * `useProcessorUnderTest()` starts it in a suite's `before` and stops it in `after`.
 */
export interface ProcessorUnderTest {
  readonly standIns: StandIns;
  readonly settings: Settings;
  readonly engine: ImageEngine;
  /** The time pending records are created at. */
  readonly t0: Date;
  /**
   * A processor handler with the test's overrides (or a function of the handler's logger giving them, for an
   * `onOutcome` that logs too); its log lines and the outcome lines among them.
   */
  processor(overrides?: Partial<ProcessorDeps> | ((logger: ProcessorDeps["logger"]) => Partial<ProcessorDeps>)): {
    handler: ReturnType<typeof createProcessor>;
    lines: LogLine[];
    outcomes: () => LogLine[];
  };
  /** Puts an original at uploads/{id} (or `key`) and returns the object event S3 would send for it. */
  upload(
    body: Buffer,
    options?: UploadOptions,
  ): Promise<{ id: string; key: string; event: { bucket: string; key: string; size: number; eTag: string } }>;
  /** A stored variant, read back with its headers and what sharp sees in it. */
  readVariant(key: string): Promise<{
    contentType?: string;
    cacheControl?: string;
    bytes: number;
    width?: number;
    height?: number;
    format?: string;
    /** 1 for a still image. */
    frames: number;
    eTag?: string;
  }>;
  /** The record of `id`; fails when there is none. */
  record(id: string): Promise<ImageRecord>;
}

export function useProcessorUnderTest(): ProcessorUnderTest {
  let standIns: StandIns | undefined;
  let settings: Settings | undefined;
  let engine: ImageEngine | undefined;
  const started = () => {
    if (!standIns || !settings || !engine)
      throw new Error("the processor under test is used outside its suite's tests");
    return { standIns, settings, engine };
  };
  before(async () => {
    standIns = await startStandIns();
    settings = processorSettings();
    engine = createImageEngine({
      variants: settings.variants,
      maxInputPixels: settings.maxInputPixels,
      maxFrames: settings.maxFrames,
      concurrency: 2,
    });
  });
  after(async () => standIns?.stop());

  const t0 = new Date(Date.UTC(2026, 0, 1));
  return {
    get standIns() {
      return started().standIns;
    },
    get settings() {
      return started().settings;
    },
    get engine() {
      return started().engine;
    },
    t0,
    processor(overrides = {}) {
      const { standIns, settings, engine } = started();
      const { logger, lines } = captureLogger();
      const extra = typeof overrides === "function" ? overrides(logger) : overrides;
      const handler = createProcessor({
        s3: standIns.s3,
        records: standIns.records,
        settings,
        uploadsBucket: standIns.uploadsBucket,
        variantsBucket: standIns.variantsBucket,
        engine,
        logger,
        ...extra,
      });
      return { handler, lines, outcomes: () => lines.filter((l) => l.message === OUTCOME_MESSAGE) };
    },
    async upload(body, options = {}) {
      const { standIns } = started();
      const id = options.id ?? newImageId();
      const key = options.key ?? originalKey(id);
      const contentType = options.contentType ?? "image/jpeg";
      // The processor never creates a record (issue 25): every upload has the one its grant made.
      await createPendingRecord(standIns.records, {
        id,
        filename: options.pendingAs ?? id,
        contentType: options.pendingAs ? contentType : "application/octet-stream",
        now: t0,
      }).catch((error: Error) => {
        if (error.name !== "ConditionalCheckFailedException") throw error;
      });
      const put = await standIns.s3.send(
        new PutObjectCommand({ Bucket: standIns.uploadsBucket, Key: key, Body: body, ContentType: contentType }),
      );
      return { id, key, event: { bucket: standIns.uploadsBucket, key, size: body.length, eTag: put.ETag! } };
    },
    async readVariant(key) {
      const { standIns } = started();
      const got = await standIns.s3.send(new GetObjectCommand({ Bucket: standIns.variantsBucket, Key: key }));
      const body = Buffer.from(await got.Body!.transformToByteArray());
      const meta = await sharp(body).metadata();
      return {
        contentType: got.ContentType,
        cacheControl: got.CacheControl,
        bytes: body.length,
        width: meta.width,
        height: meta.height,
        format: meta.format,
        frames: meta.pages ?? 1,
        eTag: got.ETag,
      };
    },
    async record(id) {
      const found = await getRecord(started().standIns.records, id);
      if (!found) throw new Error(`no record for ${id}`);
      return found;
    },
  };
}
