/**
 * The runs the permission proof records, each driven here through the handlers' own factories (createApi,
 * createProcessor) with clients made by handlers/lib/storage/aws-clients.ts, as Lambda makes them, pointed at the
 * stand-ins (s3rver, dynalite; an EventBridge and a CloudFront endpoint on loopback ports). Each run's stack is
 * deployed under Pulumi's mocks from the same settings, and the stand-ins' buckets, table and bus carry the names
 * the mocks give, so every recorded ARN is one the stack's policies name.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CloudFrontClient } from "@aws-sdk/client-cloudfront";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateBucketCommand, HeadObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { createApi, type ApiHandler } from "../../../handlers/api/create-api.js";
import { SSMClient } from "@aws-sdk/client-ssm";
import { DISTRIBUTION_ID_HEADER, VIEWER_HOST_HEADER } from "../../../handlers/api/delivery.js";
import { signingKeyFromParameter } from "../../../handlers/api/variant-signing.js";
import { signingKeyPair } from "../../support/signing-keys.js";
import { createDocumentClient, createS3Client } from "../../../handlers/lib/storage/aws-clients.js";
import { createVariantInvalidator } from "../../../handlers/lib/storage/cdn-invalidation.js";
import { imageEngineFor } from "../../../handlers/lib/image/engine.js";
import { originalKey } from "../../../handlers/lib/storage/keys.js";
import { createPendingRecord, getRecord } from "../../../handlers/lib/storage/records.js";
import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { reprocessJobBody } from "../../../handlers/processor/reprocess-job.js";
import { eventBridgePublisher } from "../../../handlers/processor/completion-events.js";
import { createProcessor, type ProcessorHandler } from "../../../handlers/processor/processor.js";
import type { Settings } from "../../../handlers/lib/config/settings.js";
import { devIssuer, type DevIssuer } from "../../../local/auth/dev-issuer.js";
import { ensureImageTable } from "../../../local/stand-ins/image-table.js";
import { startDynalite, startS3rver } from "../../../local/stand-ins/start.js";
import { createVariantOrigin } from "../../../local/s3/variant-origin.js";
import { deploy, type Deployed } from "../../infra/support/deployments.js";
import { ACCOUNT_ID, REGION, type StackConfig } from "../../infra/support/pulumi-mocks.js";
import { bodyOf, httpEvent } from "../../handlers/api-events.js";
import { startEventBridgeDouble, type EventBridgeDouble } from "../../support/eventbridge-double.js";
import { makePhoto, makeTextFile } from "../../support/images.js";
import { lambdaContext, s3Message, sqsEvent, sqsRecord } from "../../support/sqs-events.js";
import { useTestAwsEnvironment } from "../../support/stand-ins.js";
import { createCallRecorder, type CallRecorder } from "./call-recorder.js";
import { stackPolicies, type StackPolicies } from "./stack-policies.js";

/** Small variants (fast), completion events with a webhook: what every run shares. */
const COMMON: StackConfig = {
  "image-pipeline:variants": [
    { name: "thumb", width: 48, format: "webp" },
    { name: "small", width: 96, format: "jpeg" },
  ],
  "image-pipeline:events": { webhook: { url: "https://hooks.example.com/images" } },
  "image-pipeline:webhookSecret": "proof-webhook-secret",
};

export interface ProofRun {
  name: string;
  deployed: Deployed;
  settings: Settings;
  policies: StackPolicies;
  recorder: CallRecorder;
  /** The handlers, their clients recorded; `cdnEdge` reads variants as CloudFront's OAC does. */
  api: ApiHandler;
  processor: ProcessorHandler;
  /** Every API request as the Function URL (or, with `delivery: cdn`, CloudFront) delivers it. */
  request(
    method: string,
    path: string,
    options?: { json?: unknown; query?: string; sub?: string },
  ): Promise<{ statusCode: number; body: any }>;
  /** The browser's part of an upload: the form POST the grant describes, sent to the stand-in. */
  upload(grant: { url: string; fields: Record<string, string> }, body: Buffer, contentType: string): Promise<void>;
  /** The event source mapping's part: one batch of S3 notifications for these keys. */
  process(keys: Array<{ key: string; size: number }>): Promise<unknown>;
  /**
   * One reprocess job for an image, as `npm run reprocess` sends it; first its record is made to look older
   * (another variant set: a stale object and no content hashes), so the job writes new keys and deletes the stale.
   */
  reprocess(id: string): Promise<unknown>;
  /** A pending record with no object behind it (its original deleted before processing). */
  pendingWithoutObject(id: string): Promise<void>;
  /** An object in the uploads bucket that no grant made (no record), put by an unrecorded client. */
  objectWithoutRecord(key: string, body: Buffer): Promise<void>;
  /** GET through the CDN's variant path (delivery: cdn): the OAC read of the variants bucket. */
  cdnGet?(path: string): Promise<number>;
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** Open mode, presigned delivery, the legacy routes on: the byFilename index and presigned PUTs in use. */
export const OPEN_PRESIGNED: StackConfig = { ...COMMON, "image-pipeline:legacyApi": true };

/** Open mode behind the CDN: no DELETE route, no signed variant URL. */
export const OPEN_CDN: StackConfig = { ...COMMON, "image-pipeline:delivery": "cdn" };

/** Token mode (a local issuer's JWKS), delivery through the CDN (OAC reads, invalidation on DELETE). */
export const tokenCdn = (auth: { issuer: string; audience: string; jwksUrl: string }): StackConfig => ({
  ...COMMON,
  "image-pipeline:auth": auth,
  "image-pipeline:delivery": "cdn",
});

/** A loopback endpoint answering every CloudFront call with a created invalidation (the SDK parses it as AWS's). */
async function startCloudFrontDouble(): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    request.resume();
    request.on("end", () => {
      response
        .writeHead(201, {
          "content-type": "text/xml",
          location: "https://cloudfront.amazonaws.com/2020-05-31/distribution/X/invalidation/I1",
        })
        .end(
          `<?xml version="1.0"?><Invalidation xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><Id>I1</Id><Status>InProgress</Status><CreateTime>2026-01-01T00:00:00Z</CreateTime><InvalidationBatch><Paths><Quantity>1</Quantity><Items><Path>/x</Path></Items></Paths><CallerReference>r</CallerReference></InvalidationBatch></Invalidation>`,
        );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Starts a run: deploys `config` under mocks, starts stand-ins named as the stack names its resources, builds the handlers. */
export async function startRun(
  name: string,
  config: StackConfig,
  extras: { issuer?: DevIssuer } = {},
): Promise<ProofRun> {
  useTestAwsEnvironment();
  const deployed = await deploy(config, `proof-${name}`);
  const { settings, outputs } = deployed;
  const policies = stackPolicies(deployed);
  const recorder = createCallRecorder({ account: ACCOUNT_ID });

  const dir = await mkdtemp(join(tmpdir(), "permission-proof-"));
  const s3rver = await startS3rver(join(dir, "s3"));
  const dynamo = await startDynalite(undefined);
  const eventBridge: EventBridgeDouble = await startEventBridgeDouble();
  const cloudFront = await startCloudFrontDouble();
  const env = { AWS_REGION: REGION, AWS_ENDPOINT_URL_S3: s3rver.endpoint, AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint };
  const setup = createS3Client(env);
  for (const bucket of [outputs.uploadsBucket!, outputs.variantsBucket!])
    await setup.send(new CreateBucketCommand({ Bucket: bucket }));
  const dynamoSetup = new DynamoDBClient({ endpoint: dynamo.endpoint, region: REGION });
  await ensureImageTable(dynamoSetup, outputs.tableName!);
  dynamoSetup.destroy();

  // Each function's own clients, made as in Lambda (aws-clients.ts), every request recorded as that function's.
  const clients: Array<{ destroy(): void }> = [];
  const made = <C extends { destroy(): void }>(client: C): C => (clients.push(client), client);
  const apiRecords = {
    client: recorder.instrument("api", made(createDocumentClient(env))),
    tableName: outputs.tableName!,
  };
  const cdn = settings.delivery === "cdn";
  const api = createApi({
    s3: recorder.instrument("api", made(createS3Client(env))),
    records: apiRecords,
    settings,
    uploadsBucket: outputs.uploadsBucket!,
    variantsBucket: outputs.variantsBucket!,
    ...(cdn
      ? {
          cdn: {
            behindCloudFront: true,
            ...(settings.auth
              ? {
                  signingKey: signingKeyFromParameter(
                    recordedParameterStore(recorder, made, policies),
                    signingParameterName(policies),
                  ),
                }
              : {}),
            invalidate: createVariantInvalidator(
              recorder.instrument(
                "api",
                made(new CloudFrontClient({ endpoint: cloudFront.endpoint, region: REGION, maxAttempts: 1 })),
              ),
            ),
          },
        }
      : {}),
  });
  const processorRecords = {
    client: recorder.instrument("processor", made(createDocumentClient(env))),
    tableName: outputs.tableName!,
  };
  const processor = createProcessor({
    s3: recorder.instrument("processor", made(createS3Client(env))),
    records: processorRecords,
    settings,
    uploadsBucket: outputs.uploadsBucket!,
    variantsBucket: outputs.variantsBucket!,
    engine: imageEngineFor(settings),
    logger: { info() {}, warn() {}, error() {} },
    ...(outputs.eventBusName
      ? {
          onOutcome: eventBridgePublisher({
            client: recorder.instrument("processor", made(eventBridge.client())),
            busName: outputs.eventBusName,
          }),
        }
      : {}),
  });

  // CloudFront's reads through OAC, signed for this distribution (AWS:SourceArn), served as the local runtime's edge serves them.
  let edge: Server | undefined;
  if (cdn) {
    const distributionArn = `arn:aws:cloudfront::${ACCOUNT_ID}:distribution/${policies.distributionId}`;
    // CloudFront is granted no s3:ListBucket: a deleted variant reads as 403 at the edge, which nothing depends on.
    const oac = {
      context: { "aws:SourceArn": distributionArn, "aws:SourceAccount": ACCOUNT_ID },
      missingReadsAs404: false,
    };
    const origin = createVariantOrigin(
      recorder.instrument("cloudfront", made(createS3Client(env)), oac),
      outputs.variantsBucket!,
    );
    edge = createServer((req, res) => void origin(req, res).then((served) => served || res.writeHead(404).end()));
    await new Promise<void>((resolve) => edge!.listen(0, "127.0.0.1", resolve));
  }
  const edgeUrl = edge ? `http://127.0.0.1:${(edge.address() as AddressInfo).port}` : "";

  const run: ProofRun = {
    name,
    deployed,
    settings,
    policies,
    recorder,
    api,
    processor,
    env,
    async request(method, path, options = {}) {
      const headers: Record<string, string> = {};
      if (options.json !== undefined) headers["content-type"] = "application/json";
      if (options.sub && extras.issuer)
        headers[cdn ? "x-viewer-authorization" : "authorization"] =
          `Bearer ${await extras.issuer.sign(options.sub, 300)}`;
      // Behind the CDN, as CloudFront's origin request and viewer-request function deliver it.
      if (cdn)
        Object.assign(headers, {
          [VIEWER_HOST_HEADER]: "d111.cloudfront.net",
          [DISTRIBUTION_ID_HEADER]: policies.distributionId!,
          "x-forwarded-proto": "https",
        });
      const event = httpEvent(method, path, {
        ...(options.json === undefined ? {} : { body: JSON.stringify(options.json) }),
        ...(options.query ? { query: options.query } : {}),
        headers,
      });
      const response = await api(event);
      const text = response.isBase64Encoded ? "" : (response.body ?? "");
      let body: any = text;
      try {
        body = text ? bodyOf(response) : undefined;
      } catch {
        // not JSON (the page)
      }
      // A presigned POST handed out is a call of the API's role (the browser's upload is authorised by it).
      if (body?.upload?.fields?.Policy) recorder.presignedPost("api", body.upload);
      return { statusCode: response.statusCode, body };
    },
    async upload(grant, body, contentType) {
      const form = new FormData();
      for (const [field, value] of Object.entries(grant.fields)) form.append(field, value);
      form.append("file", new Blob([new Uint8Array(body)], { type: contentType }), "photo");
      const stored = await fetch(grant.url, { method: "POST", body: form });
      if (stored.status !== 204) throw new Error(`S3 POST answered ${stored.status}: ${await stored.text()}`);
    },
    async process(keys) {
      // The notification carries the object's ETag as S3 sends it (read with a client nobody records).
      const eTagOf = (key: string) =>
        setup.send(new HeadObjectCommand({ Bucket: outputs.uploadsBucket!, Key: key })).then(
          (head) => head.ETag!,
          () => '"0"',
        );
      const records = await Promise.all(
        keys.map(async (k, i) =>
          s3Message([
            {
              bucket: outputs.uploadsBucket!,
              key: k.key,
              size: k.size,
              eTag: await eTagOf(k.key),
              sequencer: `00${Date.now().toString(16)}${i}`,
            },
          ]),
        ),
      );
      return processor(sqsEvent(records), lambdaContext({ remainingMs: 60_000 }));
    },
    async reprocess(id) {
      const store = { client: made(createDocumentClient(env)), tableName: outputs.tableName! };
      const record = (await getRecord(store, id))!;
      const stale = { ...record.variants![0]!, name: "retired", key: `variants/${id}/retired.webp` };
      await setup.send(new PutObjectCommand({ Bucket: outputs.variantsBucket!, Key: stale.key, Body: "old" }));
      const older = record.variants!.map(({ sha256: _hash, ...variant }) => variant);
      await store.client.send(
        new UpdateCommand({
          TableName: store.tableName,
          Key: { id },
          UpdateExpression: "SET variants = :variants",
          ExpressionAttributeValues: { ":variants": [...older, stale] },
        }),
      );
      const job = sqsRecord(reprocessJobBody({ id, run: `proof-${Date.now()}` }));
      return processor(sqsEvent([job]), lambdaContext({ remainingMs: 60_000 }));
    },
    async pendingWithoutObject(id) {
      const now = new Date();
      await createPendingRecord(
        { client: made(createDocumentClient(env)), tableName: outputs.tableName! },
        { id, filename: "gone.jpg", contentType: "image/jpeg", now, grantExpiresAt: new Date(now.getTime() + 60_000) },
      );
    },
    async objectWithoutRecord(key, body) {
      await made(createS3Client(env)).send(
        new PutObjectCommand({ Bucket: outputs.uploadsBucket!, Key: key, Body: body }),
      );
    },
    ...(cdn ? { cdnGet: async (path: string) => (await fetch(`${edgeUrl}${path}`)).status } : {}),
    async stop() {
      edge?.close();
      for (const client of [setup, ...clients]) client.destroy();
      await eventBridge.stop();
      await cloudFront.stop();
      await s3rver.stop();
      await dynamo.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return run;
}

/** A JWKS on a loopback port for a local issuer (token mode's settings name it). */
export async function startIssuer(): Promise<{
  issuer: DevIssuer;
  auth: { issuer: string; audience: string; jwksUrl: string };
  stop(): Promise<void>;
}> {
  const dir = await mkdtemp(join(tmpdir(), "permission-proof-issuer-"));
  const issuer = await devIssuer(dir);
  const server = createServer((_req, res) =>
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(issuer.jwks)),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  return {
    issuer,
    auth: { issuer: issuer.issuer, audience: issuer.audience, jwksUrl },
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export const photo = () => makePhoto({ width: 160, height: 120, format: "jpeg" });
export const notAnImage = () => makeTextFile();
export { originalKey };

/** The signing key's SSM parameter, as the API role's ReadVariantSigningKey statement names it. */
function signingParameterName(policies: StackPolicies): string {
  const statements = Object.values(policies.roles).flatMap((r) => r.policies.flatMap((p) => p.document.Statement));
  const read = statements.find((s) => s.Sid === "ReadVariantSigningKey");
  const arn = [read?.Resource].flat()[0];
  if (typeof arn !== "string")
    throw new Error("the stack grants no ReadVariantSigningKey: no signing key parameter to read");
  return arn.slice(arn.indexOf(":parameter/") + ":parameter/".length);
}

/**
 * An SSM client recorded as the API's, answering GetParameter with a real key pair (no SSM stand-in exists): the
 * call is recorded as the API makes it in Lambda, before the answer is faked at the wire.
 */
function recordedParameterStore(
  recorder: CallRecorder,
  made: <C extends { destroy(): void }>(client: C) => C,
  _policies: StackPolicies,
): SSMClient {
  const key = signingKeyPair("K2PROOF");
  const ssm = recorder.instrument(
    "api",
    made(new SSMClient({ region: REGION, credentials: { accessKeyId: "proof", secretAccessKey: "proof" } })),
  );
  ssm.middlewareStack.add(
    () => async () => ({
      output: {
        Parameter: { Value: JSON.stringify({ keyPairId: key.keyPairId, privateKey: key.privateKey }) },
        $metadata: {},
      },
      response: {},
    }),
    { step: "build", priority: "low", name: "proofParameterAnswer" },
  );
  return ssm;
}
