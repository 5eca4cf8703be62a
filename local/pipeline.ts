/**
 * The whole pipeline in one process, with no cloud account: embedded stand-ins for S3, SQS and DynamoDB
 * persisting under DATA_DIR, S3 -> SQS notifications, the SQS event source mapping driving the processor, and the
 * Function URL serving the API and the page. The handlers are the Lambda code itself (handlers/), given clients
 * that point at the stand-ins.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { createApi } from "../handlers/api/create-api.js";
import { apiCorsPolicy } from "../handlers/lib/contract/api-cors.js";
import { createDocumentClient, createS3Client, createSqsClient } from "../handlers/lib/storage/aws-clients.js";
import { imageEngineFor } from "../handlers/lib/image/engine.js";
import { UPLOADS_PREFIX } from "../handlers/lib/storage/keys.js";
import type { RecordStore } from "../handlers/lib/storage/records.js";
import {
  DEFAULT_WEBHOOK_HEADER,
  parseSettings,
  signsVariantUrls,
  type Settings,
} from "../handlers/lib/config/settings.js";
import { OWNER_INDEX } from "../handlers/lib/storage/records.js";
import { createProcessor } from "../handlers/processor/processor.js";
import { lockDataDir, prepareDataDir, type DataDirLayout } from "./state/data-dir.js";
import { localWebhookSecret, startLocalEvents, type LocalEvents, type RetryTiming } from "./events/local-events.js";
import { startEventSourceMapping, type BatchHandler } from "./lambda/event-source-mapping.js";
import { startGrantSweeper } from "./stand-ins/expired-grants.js";
import { createFaultInjector, type Faults } from "./lambda/faults.js";
import { devAuthSetting, devIssuer, JWKS_PATH } from "./auth/dev-issuer.js";
import { localVariantSigningKey } from "./auth/variant-signing-key.js";
import { listenFunctionUrl } from "./lambda/function-url.js";
import { processingWindowSeconds } from "../handlers/lib/contract/queue-timing.js";
import { ensureImageTable } from "./stand-ins/image-table.js";
import { outcomeLine, processorLogger } from "./lambda/processor-log.js";
import { ensureBuckets, ensureQueues, resourceNames } from "./stand-ins/resources.js";
import { createNotificationForwarder } from "./s3/notifications.js";
import { writeRuntimeFile } from "./state/runtime-file.js";
import type { RequestMeter } from "./stand-ins/request-meter.js";
import { readStackSettings } from "./cli/stack-file.js";
import { recoverS3Store } from "./s3/recovery.js";
import { keepPorts, readKeptPorts, StandInPortTakenError } from "./stand-ins/ports.js";
import { checkStandInStores } from "./stand-ins/store-check.js";
import { startStandIns, type RunningStandIns } from "./stand-ins/start.js";
import { createVariantOrigin } from "./s3/variant-origin.js";

export interface LocalPipelineOptions {
  /** 0 = random; default 3000. */
  port?: number;
  dataDir: string;
  /** Default "dev": settings from Pulumi.<stack>.yaml; resource names carry it. */
  stack?: string;
  /** Overrides the stack file. */
  settings?: Settings;
  faults?: Faults;
  log?: (line: string) => void;
  /** Default 127.0.0.1. */
  host?: string;
  /** Where Pulumi.<stack>.yaml is read from; default the working directory. */
  stackDir?: string;
  /** How long stop() waits for batches in flight; default the processor timeout, at most 10 s. */
  drainTimeoutMs?: number;
  /** How often expired, never-used upload grants are deleted (dynalite has no TTL); default 10 minutes. */
  grantSweepIntervalMs?: number;
  /** Token mode with the local issuer (DATA_DIR/auth/, JWKS at /.well-known/jwks.json). */
  devAuth?: boolean;
  /** Counts every request the API's and the processor's SDK clients send (bench --only scale). */
  meter?: RequestMeter;
  /** Choose new ports for the stand-ins instead of the ones kept in DATA_DIR (URLs handed out before stop working). */
  newPorts?: boolean;
  /** POST every completion event to this URL (`--webhook`), as the stack's API destination would. */
  webhook?: string;
  /** `--legacy-api`: the original project's routes for this run, whatever the settings say (said at start). */
  legacyApi?: boolean;
  /** Backoff of webhook retries (tests shorten it); default 1 s doubling to 1 min, for up to 24 h. */
  webhookRetry?: RetryTiming;
}

export interface LocalPipeline {
  url: string;
  endpoints: { s3: string; sqs: string; dynamodb: string };
  names: { uploadsBucket: string; variantsBucket: string; queueUrl: string; dlqUrl: string; tableName: string };
  setFaults(faults: LocalPipelineOptions["faults"]): void;
  stop(): Promise<void>;
}

/** s3rver knows one account; the other stand-ins accept any credentials. */
const LOCAL_CREDENTIALS = { AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER" };
const MAX_DRAIN_MS = 10_000;
const NOTIFICATION_DRAIN_MS = 2_000;

/** The stand-ins on the ports kept in DATA_DIR (chosen and kept at the first start, or when asked for new ones). */
async function startKeptStandIns(layout: DataDirLayout, host: string, newPorts: boolean): Promise<RunningStandIns> {
  const kept = newPorts ? undefined : await readKeptPorts(layout.root);
  let standIns: RunningStandIns;
  try {
    standIns = await startStandIns(layout, host, kept);
  } catch (error) {
    if (error instanceof StandInPortTakenError) throw new Error(error.explain(layout.root));
    throw error;
  }
  if (!kept) await keepPorts(layout.root, standIns.ports);
  return standIns;
}

export async function startLocalPipeline(options: LocalPipelineOptions): Promise<LocalPipeline> {
  const host = options.host ?? "127.0.0.1";
  const log = options.log ?? (() => undefined);
  const stack = options.stack ?? "dev";
  const fromStack = options.settings ? undefined : await readStackSettings(stack, options.stackDir);
  let settings = options.settings ?? fromStack!.settings;
  if (options.legacyApi) settings = { ...settings, legacyApi: true };
  const region = fromStack?.region ?? "us-east-1";
  const faults = createFaultInjector(options.faults, log);

  // The port first: a taken port fails before DATA_DIR is touched.
  const http = await listenFunctionUrl({ host, port: options.port ?? 3000, log });
  const cleanups: Array<() => Promise<unknown>> = [() => http.close()];
  const cleanUp = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  };
  try {
    const layout = await prepareDataDir(options.dataDir);
    const lock = await lockDataDir(layout);
    cleanups.push(() => lock.release());
    const since = lock.crashedRunStartedAt;
    if (since)
      log(
        `DATA_DIR ${layout.root} was not stopped cleanly: checking the objects stored since ${since.toISOString()} against their MD5`,
      );
    for (const line of await recoverS3Store({
      root: layout.s3,
      pendingDir: layout.s3Pending,
      ...(since ? { verifyContentSince: since } : {}),
    }))
      log(line);
    await checkStandInStores(layout);
    const issuer = options.devAuth ? await devIssuer(layout.root) : undefined;
    if (issuer) settings = { ...settings, auth: parseSettings({ auth: devAuthSetting(http.url) }).auth! };
    const standIns = await startKeptStandIns(layout, host, options.newPorts ?? false);
    cleanups.push(() => standIns.stop());

    const env = {
      ...LOCAL_CREDENTIALS,
      AWS_REGION: region,
      AWS_ENDPOINT_URL_S3: standIns.endpoints.s3,
      AWS_ENDPOINT_URL_SQS: standIns.endpoints.sqs,
      AWS_ENDPOINT_URL_DYNAMODB: standIns.endpoints.dynamodb,
    };
    const s3 = createS3Client(env);
    const sqs = createSqsClient(env);
    // Creating the table needs the raw client (the document client does not expose the one it wraps).
    const dynamodb = new DynamoDBClient({
      endpoint: env.AWS_ENDPOINT_URL_DYNAMODB,
      region,
      credentials: {
        accessKeyId: LOCAL_CREDENTIALS.AWS_ACCESS_KEY_ID,
        secretAccessKey: LOCAL_CREDENTIALS.AWS_SECRET_ACCESS_KEY,
      },
    });
    const records: RecordStore = { client: createDocumentClient(env), tableName: "" };
    cleanups.push(async () => {
      for (const client of [s3, sqs, dynamodb, records.client]) client.destroy();
    });

    const names = resourceNames(stack);
    records.tableName = names.tableName;
    const ownOrigins = [http.url, `http://localhost:${http.port}`];
    const origins = [...new Set([...settings.allowedOrigins, ...ownOrigins])];
    await ensureBuckets(s3, names, origins);
    const queues = await ensureQueues(sqs, names, settings);
    const indexes = await ensureImageTable(dynamodb, names.tableName);
    if (settings.auth && !indexes.includes(OWNER_INDEX)) {
      throw new Error(
        `the image table in ${layout.dynamodb} was made before token mode existed and has no ${OWNER_INDEX} index (the local DynamoDB cannot add one); use a new DATA_DIR for token mode`,
      );
    }
    // Completion events where the stack has them (the dev stack does), or where a webhook is asked for.
    let events: LocalEvents | undefined;
    if (settings.events || options.webhook) {
      const headerName = settings.events?.webhook?.headerName ?? DEFAULT_WEBHOOK_HEADER;
      const webhook = options.webhook
        ? { url: options.webhook, headerName, secret: await localWebhookSecret(layout.root) }
        : undefined;
      events = await startLocalEvents({
        root: layout.root,
        region,
        log,
        ...(webhook ? { webhook } : {}),
        ...(options.webhookRetry ? { retry: options.webhookRetry } : {}),
      });
      const started = events;
      cleanups.push(() => started.stop());
      if (webhook)
        log(
          `webhook: events are POSTed to ${webhook.url} with header ${headerName} (its value: WEBHOOK_SECRET, else DATA_DIR/webhook-secret)`,
        );
    }
    const stopSweeper = startGrantSweeper({ records, intervalMs: options.grantSweepIntervalMs ?? 10 * 60_000, log });
    cleanups.push(async () => stopSweeper());

    const forwarder = await createNotificationForwarder({
      sqs,
      target: {
        bucket: names.uploadsBucket,
        prefix: UPLOADS_PREFIX,
        queueUrl: queues.queueUrl,
        queueArn: queues.queueArn,
        region,
      },
      stateDir: layout.notifications,
      log,
    });
    standIns.onS3Event((event) => forwarder.handleS3rverEvent(event));
    await forwarder.configure();
    const reconciled = await forwarder.reconcile(s3);
    if (reconciled > 0) log(`forwarded ${reconciled} upload(s) whose notification was not sent before the last stop`);

    const processorS3 = createS3Client(env);
    faults.instrumentS3(processorS3);
    if (options.meter) {
      for (const client of [s3, processorS3]) options.meter.instrumentS3(client);
      options.meter.instrumentSqs(sqs);
      options.meter.instrumentDynamoDb(records.client);
    }
    cleanups.push(async () => processorS3.destroy());
    const processor = createProcessor({
      s3: processorS3,
      records,
      settings,
      uploadsBucket: names.uploadsBucket,
      variantsBucket: names.variantsBucket,
      engine: imageEngineFor(settings),
      logger: processorLogger(log),
      // Runs in the invocation's async context, where fault injection counts the images an invocation finished.
      onOutcome: async (report) => {
        log(outcomeLine(report));
        faults.observe(report);
        await events?.hook(report);
      },
    });
    const mapping = startEventSourceMapping({
      sqs,
      queueUrl: queues.queueUrl,
      queueArn: queues.queueArn,
      region,
      batchSize: settings.processor.batchSize,
      batchWindowSeconds: settings.processor.batchWindowSeconds,
      maxConcurrency: settings.processor.maxConcurrency,
      function: {
        name: `${names.queueName}-processor`,
        timeoutSeconds: settings.processor.timeoutSeconds,
        memoryMb: settings.processor.memoryMb,
      },
      handler: faults.wrapHandler(processor as BatchHandler),
      log,
      deadLetter: {
        maxReceiveCount: settings.queue.maxReceiveCount,
        listCommand: `npm run dlq -- list --local --data-dir ${options.dataDir}`,
      },
      paused: faults.current.processorPaused ?? false,
    });

    // Token mode behind the CDN: the API signs variant URLs and the runtime's variant origin checks them.
    const signing = signsVariantUrls(settings) ? await localVariantSigningKey(layout.root) : undefined;
    const api = createApi({
      s3,
      records,
      settings: { ...settings, processingWindowSeconds: processingWindowSeconds(settings.processor, settings.queue) },
      uploadsBucket: names.uploadsBucket,
      variantsBucket: names.variantsBucket,
      logger: {
        error: (message, attributes) => log(`api error: ${message} ${JSON.stringify(attributes)}`),
        warn: (message, attributes) => log(`api warning: ${message} ${JSON.stringify(attributes)}`),
      },
      // No CloudFront here: the runtime's own origin plays the distribution's (no secret to check, no edge cache).
      ...(settings.delivery === "cdn"
        ? { cdn: { publicOrigin: http.url, ...(signing ? { signingKey: async () => signing } : {}) } }
        : {}),
    });
    const edge =
      settings.delivery === "cdn"
        ? createVariantOrigin(s3, names.variantsBucket, {
            formats: settings.formats,
            ...(signing ? { signedUrls: { publicKeys: { [signing.keyPairId]: signing.publicKey } } } : {}),
          })
        : undefined;
    http.attach(
      api,
      { ...apiCorsPolicy(settings), allowOrigins: origins },
      {
        documents: issuer ? { [JWKS_PATH]: issuer.jwks } : {},
        ...(edge ? { edge } : {}),
        // Behind the CDN, Lambda refuses a POST or PUT whose x-amz-content-sha256 is not its body's (OAC signs with it).
        payloadHashRequired: settings.delivery === "cdn",
      },
    );
    const resourceNamesOut = {
      uploadsBucket: names.uploadsBucket,
      variantsBucket: names.variantsBucket,
      queueUrl: queues.queueUrl,
      dlqUrl: queues.dlqUrl,
      tableName: names.tableName,
    };
    // Other processes (npm run dlq -- --local) find the stand-ins here, and whether the runtime runs.
    cleanups.push(
      await writeRuntimeFile(layout.root, {
        url: http.url,
        endpoints: standIns.endpoints,
        names: resourceNamesOut,
        settings,
      }),
    );
    if (issuer) {
      log(`token mode: issuer ${issuer.issuer}, audience ${issuer.audience}, keys at ${http.url}${JWKS_PATH}`);
      log(`  a token for a user: npm run token -- --sub alice --data-dir ${options.dataDir}`);
    }
    if (options.legacyApi) {
      log(
        settings.auth
          ? "--legacy-api: ignored in token mode (the legacy routes name no owner, so token mode never serves them)"
          : "--legacy-api: the original project's routes are on for this run (GET/POST by filename: anyone who guesses a name gets the upload)",
      );
    }
    log(`ready ${http.url}`);

    const drainMs = options.drainTimeoutMs ?? Math.min(MAX_DRAIN_MS, settings.processor.timeoutSeconds * 1000);
    let stopping: Promise<void> | undefined;
    return {
      url: http.url,
      endpoints: standIns.endpoints,
      names: resourceNamesOut,
      setFaults(next) {
        faults.set(next);
        mapping.setPaused(faults.current.processorPaused ?? false);
      },
      stop() {
        stopping ??= (async () => {
          await http.close();
          await mapping.stop(drainMs);
          await events?.stop();
          // Uploads end here; an event not forwarded in time is reconciled at the next start.
          await standIns.stopS3();
          await forwarder.drain(NOTIFICATION_DRAIN_MS);
          cleanups.shift(); // the HTTP server is closed already
          await cleanUp();
        })();
        return stopping;
      },
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}
