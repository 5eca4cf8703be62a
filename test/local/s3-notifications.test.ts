import { expect } from "chai";
import { createHash } from "node:crypto";
import { appendFile, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { until } from "../../local/until.js";
import { join } from "node:path";
import {
  DeleteObjectCommand,
  GetBucketCorsCommand,
  PutBucketCorsCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { createS3Client, createSqsClient } from "../../handlers/lib/storage/aws-clients.js";
import { parseSettings } from "../../handlers/lib/config/settings.js";
import { orderedSequencer } from "../../handlers/processor/s3-event.js";
import { prepareDataDir, type DataDirLayout } from "../../local/state/data-dir.js";
import { ensureBuckets, ensureQueues, resourceNames, type QueueIdentity } from "../../local/stand-ins/resources.js";
import { createNotificationForwarder, type NotificationTarget } from "../../local/s3/notifications.js";
import { startStandIns, type RunningStandIns, type S3rverEvent } from "../../local/stand-ins/start.js";

/** S3 -> SQS forwarding against the real stand-ins (s3rver and fauxqs). */
describe("local S3 event notifications", function () {
  let dir: string;
  let layout: DataDirLayout;
  let standIns: RunningStandIns;
  let s3: S3Client;
  let sqs: SQSClient;
  let queues: QueueIdentity;
  let target: NotificationTarget;
  const names = resourceNames("notify-test");
  const listeners: Array<(event: S3rverEvent) => void> = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "local-notify-"));
    layout = await prepareDataDir(dir);
    standIns = await startStandIns(layout);
    standIns.onS3Event((event) => listeners.forEach((listener) => listener(event)));
    const env = {
      AWS_ACCESS_KEY_ID: "S3RVER",
      AWS_SECRET_ACCESS_KEY: "S3RVER",
      AWS_REGION: "eu-west-1",
      AWS_ENDPOINT_URL_S3: standIns.endpoints.s3,
      AWS_ENDPOINT_URL_SQS: standIns.endpoints.sqs,
    };
    s3 = createS3Client(env);
    sqs = createSqsClient(env);
    await ensureBuckets(s3, names, ["http://127.0.0.1:3000"]);
    queues = await ensureQueues(sqs, names, parseSettings({}));
    target = {
      bucket: names.uploadsBucket,
      prefix: "uploads/",
      queueUrl: queues.queueUrl,
      queueArn: queues.queueArn,
      region: "eu-west-1",
    };
  });
  afterEach(async () => {
    listeners.length = 0;
    s3.destroy();
    sqs.destroy();
    await standIns.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("buckets get the stack's CORS rules at every start: a variants rule an older runtime left is removed", async () => {
    await s3.send(
      new PutBucketCorsCommand({
        Bucket: names.variantsBucket,
        CORSConfiguration: { CORSRules: [{ AllowedOrigins: ["*"], AllowedMethods: ["GET", "HEAD"] }] },
      }),
    );
    await ensureBuckets(s3, names, ["http://127.0.0.1:3001"]);
    const variants = await s3
      .send(new GetBucketCorsCommand({ Bucket: names.variantsBucket }))
      .catch((error: Error) => error.name);
    expect(variants).to.equal("NoSuchCORSConfiguration");
    const uploads = await s3.send(new GetBucketCorsCommand({ Bucket: names.uploadsBucket }));
    expect(
      uploads.CORSRules?.map((r) => ({
        origins: r.AllowedOrigins,
        methods: r.AllowedMethods,
        headers: r.AllowedHeaders,
        expose: r.ExposeHeaders,
        maxAge: r.MaxAgeSeconds,
      })),
    ).to.deep.equal([
      { origins: ["http://127.0.0.1:3001"], methods: ["POST", "PUT"], headers: ["*"], expose: ["ETag"], maxAge: 3600 },
    ]);
  });

  async function forwarder() {
    const created = await createNotificationForwarder({
      sqs,
      target,
      stateDir: layout.notifications,
      log: () => undefined,
    });
    listeners.push((event) => created.handleS3rverEvent(event));
    return created;
  }

  /** Every message now in the jobs queue, parsed. */
  async function messages(waitSeconds = 1): Promise<any[]> {
    const bodies: any[] = [];
    for (;;) {
      const { Messages } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queues.queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: bodies.length ? 0 : waitSeconds,
          VisibilityTimeout: 60,
        }),
      );
      if (!Messages?.length) return bodies;
      bodies.push(...Messages.map((m) => JSON.parse(m.Body!)));
    }
  }

  async function put(key: string, body = "x", bucket = names.uploadsBucket) {
    return s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  }

  it("sends the s3:TestEvent once, when the notification is first configured", async () => {
    await (await forwarder()).configure();
    await (await forwarder()).configure();
    const sent = await messages();
    expect(sent).to.have.length(1);
    expect(sent[0]).to.include({ Service: "Amazon S3", Event: "s3:TestEvent", Bucket: names.uploadsBucket });
    expect(sent[0].Time).to.match(/^\d{4}-\d\d-\d\dT/);
  });

  it("forwards an upload under uploads/ as S3 sends it: one message, one record, the key URL-encoded", async () => {
    const forwarding = await forwarder();
    const stored = await put("uploads/my photo (1)+é.jpg", "hello");
    await put("other/not-mine.jpg");
    await put("uploads/elsewhere.jpg", "x", names.variantsBucket);
    await forwarding.drain(5_000);
    const sent = await messages();
    expect(sent).to.have.length(1);
    expect(sent[0].Records).to.have.length(1);
    const record = sent[0].Records[0];
    expect(record).to.deep.include({
      eventVersion: "2.1",
      eventSource: "aws:s3",
      awsRegion: "eu-west-1",
      eventName: "ObjectCreated:Put",
    });
    expect(record.s3.bucket).to.deep.include({ name: names.uploadsBucket, arn: `arn:aws:s3:::${names.uploadsBucket}` });
    expect(record.s3.object).to.deep.include({
      key: "uploads/my+photo+%281%29%2B%C3%A9.jpg",
      size: 5,
      eTag: stored.ETag!.replace(/"/g, ""),
    });
    expect(record.s3.object.sequencer).to.match(/^[0-9A-F]+$/);
  });

  it("sends one message when the stand-in reports one upload twice, and none again after a restart", async () => {
    const forwarding = await forwarder();
    let reported: S3rverEvent | undefined;
    listeners.push((event) => (reported = event));
    await put("uploads/twice.jpg");
    await forwarding.drain(5_000);
    forwarding.handleS3rverEvent(reported!);
    await forwarding.drain(5_000);
    const restarted = await forwarder();
    restarted.handleS3rverEvent(reported!);
    expect(await restarted.reconcile(s3)).to.equal(0);
    const sent = await messages();
    expect(sent.map((m) => m.Records[0].s3.object.key)).to.deep.equal(["uploads/twice.jpg"]);
  });

  it("forwards at the next start an upload whose notification was not sent before the stop", async () => {
    const first = await forwarder();
    await put("uploads/a.jpg");
    await first.drain(5_000);
    listeners.length = 0; // the runtime stops between s3rver's event and the forward
    await put("uploads/b.jpg", "bb");
    const next = await forwarder();
    expect(await next.reconcile(s3)).to.equal(1);
    const sent = await messages();
    expect(sent.map((m) => [m.Records[0].s3.object.key, m.Records[0].s3.object.size])).to.deep.equal([
      ["uploads/a.jpg", 1],
      ["uploads/b.jpg", 2],
    ]);
  });

  it("gives an upload forwarded at the next start a sequencer newer than the key's earlier event, even in the same second", async () => {
    const first = await forwarder();
    await put("uploads/same.jpg", "first");
    await first.drain(5_000);
    listeners.length = 0; // the runtime stops before the re-upload's event is forwarded
    await put("uploads/same.jpg", "second upload");
    // The reconciliation must happen in a later millisecond than the upload, so the bound below tells them apart.
    const uploadedAt = Date.now();
    await until(() => Date.now() > uploadedAt, 1_000, "the clock to pass the upload's millisecond", 1);
    const reconciledAfter = Date.now();
    expect(await (await forwarder()).reconcile(s3)).to.equal(1);

    const objects = (await messages()).map((m) => m.Records[0].s3.object);
    expect(objects.map((object) => [object.key, object.size])).to.deep.equal([
      ["uploads/same.jpg", 5],
      ["uploads/same.jpg", 13],
    ]);
    const [earlier, resent] = objects.map((object) => orderedSequencer(object.sequencer) ?? "");
    expect(resent! > earlier!, `${resent} after ${earlier}`).to.equal(true);
    // Made at reconciliation time (nextSequencer: milliseconds * 4096), not from LastModified's whole seconds.
    expect(Number(BigInt(`0x${objects[1].sequencer}`) / 4096n)).to.be.at.least(reconciledAfter);
  });

  it("keeps its log bounded: a start leaves one line per forwarded object still in the bucket, and sends nothing again", async () => {
    const first = await forwarder();
    await put("uploads/a.jpg", "first");
    await put("uploads/b.jpg");
    await first.drain(5_000);
    await put("uploads/a.jpg", "replaced");
    await first.drain(5_000);
    await s3.send(new DeleteObjectCommand({ Bucket: names.uploadsBucket, Key: "uploads/b.jpg" }));
    const log = join(layout.notifications, "forwarded.jsonl");
    const otherStack = `{"id":"image-pipeline-other-uploads/uploads/x.jpg@0cc175b9c0f1b6a831c399e269772661","at":"2026-01-01T00:00:00.000Z"}\n`;
    const [line] = (await readFile(log, "utf8")).split("\n");
    await appendFile(log, `${otherStack}${line}\n{"id":"cut sho`); // another stack's entry, a duplicate, a line a crash cut
    const sentBefore = (await messages()).length;

    expect(await (await forwarder()).reconcile(s3)).to.equal(0);
    const ids = (await readFile(log, "utf8"))
      .split("\n")
      .filter(Boolean)
      .map((text) => (JSON.parse(text) as { id: string }).id);
    listeners.length = 0; // stopped: c.jpg is found by the next start
    await put("uploads/c.jpg");
    const replaced = createHash("md5").update("replaced").digest("hex");
    expect(ids.sort()).to.deep.equal([
      `${names.uploadsBucket}/uploads/a.jpg@${replaced}`,
      "image-pipeline-other-uploads/uploads/x.jpg@0cc175b9c0f1b6a831c399e269772661",
    ]);
    expect(sentBefore).to.equal(3);
    expect(await (await forwarder()).reconcile(s3)).to.equal(1); // only c.jpg, put after the previous start
    expect((await messages()).map((m) => m.Records[0].s3.object.key)).to.deep.equal(["uploads/c.jpg"]);
  });
});
