import { expect } from "chai";
import { errorOf } from "../support/settings-errors.js";
import {
  DEFAULT_QUALITY,
  DEFAULT_SETTINGS,
  DEFAULT_VARIANT,
  DEFAULT_WEBHOOK_HEADER,
  defaultUploadUrlTtlSeconds,
  GIB,
  MIB,
  OPTIONAL_SETTINGS_KEYS,
  LOG_RETENTION_DAYS,
  parseSettings,
  reservedConcurrencyRequirement,
  SettingsError,
} from "../../handlers/lib/config/settings.js";
import {
  apiEnvironment,
  FUNCTION_ENV,
  processorEnvironment,
  readApiEnvironment,
  readProcessorEnvironment,
} from "../../handlers/lib/config/function-environment.js";
import { stackSettingsFromYaml } from "../../local/cli/stack-file.js";
import { processingWindowSeconds } from "../../handlers/lib/contract/queue-timing.js";

describe("stack settings", () => {
  it("fills every default of the schema (DEFAULT_SETTINGS) when nothing is set, and no optional setting", () => {
    const settings = parseSettings({});
    expect(settings).to.deep.equal(DEFAULT_SETTINGS);
    for (const key of OPTIONAL_SETTINGS_KEYS) expect(settings).not.to.have.property(key);
  });

  it("derives the upload grant's default expiry from maxUploadBytes (a slow phone upload, in whole minutes)", () => {
    // 25 MiB at 1 Mbit/s: 26,214,400 * 8 / 1e6 = 209.7 s, + 60 s, rounded up to 300 s.
    expect(parseSettings({ maxUploadBytes: 25 * MIB }).uploadUrlTtlSeconds).to.equal(300);
    // 200 MiB: 1677.7 s + 60 s -> 1740 s; the grant never outlives the signing credentials' hour.
    expect(parseSettings({ maxUploadBytes: 200 * MIB, processor: { memoryMb: 1024 } }).uploadUrlTtlSeconds).to.equal(
      1740,
    );
    expect(parseSettings({ maxUploadBytes: 1000 * MIB, processor: { memoryMb: 4096 } }).uploadUrlTtlSeconds).to.equal(
      3600,
    );
    expect(DEFAULT_SETTINGS.uploadUrlTtlSeconds).to.equal(defaultUploadUrlTtlSeconds(DEFAULT_SETTINGS.maxUploadBytes));
  });

  it("normalises to a value that parses to itself (how handlers receive it)", () => {
    const settings = parseSettings({
      variants: [{ name: "a", width: 10, format: "jpeg" }],
      allowedOrigins: ["https://x.example"],
    });
    expect(settings.variants).to.deep.equal([
      { name: "a", width: 10, fit: DEFAULT_VARIANT.fit, format: "jpeg", quality: DEFAULT_QUALITY.jpeg },
    ]);
    expect(parseSettings(JSON.parse(JSON.stringify(settings)))).to.deep.equal(settings);
  });

  it("keeps an optional variant height and partial processor settings", () => {
    const settings = parseSettings({
      variants: [{ name: "square", width: 200, height: 200, fit: "cover", format: "avif", quality: 40 }],
      processor: { memoryMb: 3008, architecture: "x86_64" },
    });
    expect(settings.variants[0]).to.deep.equal({
      name: "square",
      width: 200,
      height: 200,
      fit: "cover",
      position: "centre",
      format: "avif",
      quality: 40,
    });
    expect(settings.processor).to.deep.equal({ ...DEFAULT_SETTINGS.processor, memoryMb: 3008, architecture: "x86_64" });
  });

  const refusals: Array<[string, Record<string, unknown>, string, string]> = [
    [
      "a variant with width 0",
      { variants: [{ name: "a", width: 0 }] },
      "variants[0].width",
      "Expected integer between 1 and 8192 for variants[0].width but received 0 of type number",
    ],
    [
      "an unknown format",
      { variants: [{ name: "a", width: 10, format: "bmp" }] },
      "variants[0].format",
      'Expected one of webp, jpeg, png, avif for variants[0].format but received "bmp" of type string',
    ],
    [
      "a duplicate variant name",
      {
        variants: [
          { name: "a", width: 10 },
          { name: "a", width: 20 },
        ],
      },
      "variants[1].name",
      'Expected a name no other variant has for variants[1].name but received "a" of type string',
    ],
    [
      "maxUploadBytes over 5 GiB",
      { maxUploadBytes: 5 * GIB + 1 },
      "maxUploadBytes",
      `Expected integer between 1 and ${5 * GIB} for maxUploadBytes but received ${5 * GIB + 1} of type number`,
    ],
    [
      "an origin that is not a URL",
      { allowedOrigins: ["example.com"] },
      "allowedOrigins[0]",
      'Expected an origin URL such as https://images.example.com (scheme and host, no path or trailing slash) for allowedOrigins[0] but received "example.com" of type string',
    ],
    [
      "an origin with a path",
      { allowedOrigins: ["https://example.com/app"] },
      "allowedOrigins[0]",
      'Expected an origin URL such as https://images.example.com (scheme and host, no path or trailing slash) for allowedOrigins[0] but received "https://example.com/app" of type string',
    ],
    [
      "a string where a number belongs",
      { maxInputPixels: "100" },
      "maxInputPixels",
      'Expected integer between 1 and 2147483647 for maxInputPixels but received "100" of type string',
    ],
    [
      "no variants",
      { variants: [] },
      "variants",
      "Expected list of 1 to 10 variants for variants but received [] of type array",
    ],
    [
      "a variant name with a slash",
      { variants: [{ name: "a/b", width: 10 }] },
      "variants[0].name",
      'Expected lower-case name of letters, digits and dashes (1-32 characters) for variants[0].name but received "a/b" of type string',
    ],
    [
      "an unknown architecture",
      { processor: { architecture: "arm" } },
      "processor.architecture",
      'Expected one of arm64, x86_64 for processor.architecture but received "arm" of type string',
    ],
    [
      "a timeout over Lambda's 900 s",
      { processor: { timeoutSeconds: 901 } },
      "processor.timeoutSeconds",
      "Expected integer between 1 and 900 for processor.timeoutSeconds but received 901 of type number",
    ],
    [
      "batches over 10 without a window",
      { processor: { batchSize: 50, batchWindowSeconds: 0 } },
      "processor.batchWindowSeconds",
      "Expected at least 1 when processor.batchSize is over 10 (an SQS rule) for processor.batchWindowSeconds but received 0 of type number",
    ],
    [
      "an event source mapping concurrency under 2",
      { processor: { maxConcurrency: 1 } },
      "processor.maxConcurrency",
      "Expected integer between 2 and 1000 for processor.maxConcurrency but received 1 of type number",
    ],
    [
      "a cover crop without a height",
      {
        variants: [
          { name: "a", width: 10 },
          { name: "square", width: 400, fit: "cover", position: "attention" },
        ],
      },
      "variants[1].height",
      "Expected an integer height for fit cover (a crop needs a box) for variants[1].height but received nothing",
    ],
    [
      "an unknown crop position",
      { variants: [{ name: "square", width: 400, height: 400, fit: "cover", position: "faces" }] },
      "variants[0].position",
      'Expected one of centre, attention, entropy for variants[0].position but received "faces" of type string',
    ],
    [
      "a position on a fit that does not crop",
      { variants: [{ name: "a", width: 400, height: 400, position: "attention" }] },
      "variants[0].position",
      'Expected no value unless fit is cover (fit is inside) for variants[0].position but received "attention" of type string',
    ],
    [
      "animated that is not a boolean",
      { variants: [{ name: "a", width: 400, animated: "no" }] },
      "variants[0].animated",
      'Expected boolean for variants[0].animated but received "no" of type string',
    ],
    [
      "no frames at all",
      { maxFrames: 0 },
      "maxFrames",
      "Expected integer between 1 and 10000 for maxFrames but received 0 of type number",
    ],
    ["a misspelt key", { maxUploadByte: 10 }, "maxUploadByte", "Unknown setting maxUploadByte"],
    ["a misspelt processor key", { processor: { memory: 10 } }, "processor.memory", "Unknown setting processor.memory"],
    [
      "a bad e-mail",
      { alarmEmail: "ops" },
      "alarmEmail",
      'Expected e-mail address for alarmEmail but received "ops" of type string',
    ],
    [
      "an upload limit the processor's memory cannot hold",
      { maxUploadBytes: 400 * 1024 * 1024, processor: { memoryMb: 1536 } },
      "maxUploadBytes",
      "Expected at most 402653184 (a quarter of processor.memoryMb, which holds the original while processing) for maxUploadBytes but received 419430400 of type number",
    ],
    [
      "an upload URL outliving the signing credentials",
      { uploadUrlTtlSeconds: 7200 },
      "uploadUrlTtlSeconds",
      "Expected integer between 60 and 3600 for uploadUrlTtlSeconds but received 7200 of type number",
    ],
    [
      "a DLQ after fewer than 5 receives",
      { queue: { maxReceiveCount: 2 } },
      "queue.maxReceiveCount",
      "Expected integer between 5 and 1000 for queue.maxReceiveCount but received 2 of type number",
    ],
    [
      "a non-boolean switch",
      { forceDestroy: "yes" },
      "forceDestroy",
      'Expected boolean for forceDestroy but received "yes" of type string',
    ],
    [
      "a log retention CloudWatch does not offer",
      { processor: { logRetentionDays: 10 } },
      "processor.logRetentionDays",
      `Expected one of ${LOG_RETENTION_DAYS.join(", ")} (the retention periods CloudWatch Logs accepts) for processor.logRetentionDays but received 10 of type number`,
    ],
    [
      "an API log retention CloudWatch does not offer",
      { api: { logRetentionDays: 10 } },
      "api.logRetentionDays",
      `Expected one of ${LOG_RETENTION_DAYS.join(", ")} (the retention periods CloudWatch Logs accepts) for api.logRetentionDays but received 10 of type number`,
    ],
    [
      "a log retention of 0 (never expire is not offered)",
      { api: { logRetentionDays: 0 } },
      "api.logRetentionDays",
      "Expected one of 1, 3, 5,",
    ],
    [
      "a negative reserved concurrency",
      { api: { reservedConcurrency: -1 } },
      "api.reservedConcurrency",
      "Expected integer between 0 and 1000 for api.reservedConcurrency but received -1 of type number",
    ],
  ];
  for (const [what, raw, key, message] of refusals) {
    it(`refuses ${what}, naming ${key}`, () => {
      const error = errorOf(() => parseSettings(raw));
      expect(error.key).to.equal(key);
      expect(error.message.startsWith(message), error.message).to.equal(true);
    });
  }

  it("accepts every log retention CloudWatch Logs offers, and only those 22", () => {
    expect(LOG_RETENTION_DAYS).to.deep.equal([
      1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
    ]);
    for (const days of LOG_RETENTION_DAYS) {
      const settings = parseSettings({ processor: { logRetentionDays: days }, api: { logRetentionDays: days } });
      expect([settings.processor.logRetentionDays, settings.api.logRetentionDays]).to.deep.equal([days, days]);
    }
    const refused = Array.from({ length: 3654 }, (_, days) => days).filter((days) => {
      try {
        parseSettings({ api: { logRetentionDays: days } });
        return false;
      } catch {
        return true;
      }
    });
    expect(refused).to.have.length(3654 - LOG_RETENTION_DAYS.length);
  });

  it("reserves no API concurrency unless asked (0 or absent), and says what quota a reservation needs", () => {
    expect(parseSettings({}).api.reservedConcurrency).to.equal(0);
    expect(reservedConcurrencyRequirement(parseSettings({}))).to.equal(undefined);
    expect(reservedConcurrencyRequirement(parseSettings({ api: { reservedConcurrency: 0 } }))).to.equal(undefined);
    const requirement = reservedConcurrencyRequirement(parseSettings({ api: { reservedConcurrency: 20 } }));
    expect(requirement).to.include("api.reservedConcurrency 20");
    expect(requirement).to.include("must be at least 120 (Lambda keeps 100 unreserved)");
    expect(requirement).to.include("aws lambda get-account-settings");
  });

  it("reads events with an optional webhook (https only, a header name EventBridge allows, default x-image-pipeline-secret)", () => {
    expect(parseSettings({}).events).to.equal(undefined);
    expect(parseSettings({ events: {} }).events).to.deep.equal({});
    expect(parseSettings({ events: { webhook: { url: "https://hooks.example.com/images" } } }).events).to.deep.equal({
      webhook: { url: "https://hooks.example.com/images", headerName: DEFAULT_WEBHOOK_HEADER },
    });
    expect(
      parseSettings({ events: { webhook: { url: "https://h.example.com/", headerName: "X-Hook-Key" } } }).events
        ?.webhook?.headerName,
    ).to.equal("X-Hook-Key");
    const refusals: Array<[unknown, string, string]> = [
      [
        { webhook: { url: "http://hooks.example.com" } },
        "events.webhook.url",
        'Expected an https:// URL (API destinations call HTTPS only) for events.webhook.url but received "http://hooks.example.com" of type string',
      ],
      [
        { webhook: { url: "https://h.example.com", headerName: "Authorization" } },
        "events.webhook.headerName",
        "not one EventBridge reserves",
      ],
      [
        { webhook: { url: "https://h.example.com", secret: "x" } },
        "events.webhook.secret",
        "Unknown setting events.webhook.secret",
      ],
      [{ bus: "x" }, "events.bus", "Unknown setting events.bus"],
    ];
    for (const [events, key, message] of refusals) {
      const error = errorOf(() => parseSettings({ events }));
      expect(error.key).to.equal(key);
      expect(error.message).to.include(message);
    }
  });

  describe("the functions' environment (handlers/lib/config/function-environment.ts)", () => {
    const resources = { uploadsBucket: "u", variantsBucket: "v", tableName: "t" };
    // Every setting at a value other than its default, so nothing read back can come from a default.
    const settings = parseSettings({
      variants: [{ name: "card", width: 600, height: 400, fit: "cover", format: "jpeg", quality: 70 }],
      maxUploadBytes: 700 * 1024 * 1024,
      maxInputPixels: 50_000_000,
      maxFrames: 120,
      uploadUrlTtlSeconds: 1200,
      processor: { memoryMb: 3008, timeoutSeconds: 120, imageConcurrency: 3, logRetentionDays: 90 },
      api: { architecture: "x86_64" },
      alarmEmail: "ops@example.com",
      legacyApi: true,
      delivery: "cdn",
      priceClass: "PriceClass_All",
      rateLimitPer5Minutes: 500,
      customDomain: {
        name: "images.example.com",
        certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/0d3e1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b",
      },
    });

    it("gives the processor exactly the settings it reads at run time, and reads them back", () => {
      const env = processorEnvironment(settings, { ...resources, stack: "prod" });
      expect(env[FUNCTION_ENV.stack]).to.equal("prod");
      expect(JSON.parse(env[FUNCTION_ENV.settings]!)).to.deep.equal({
        variants: settings.variants,
        maxUploadBytes: 700 * 1024 * 1024,
        maxInputPixels: 50_000_000,
        maxFrames: 120,
        processor: { timeoutSeconds: 120, imageConcurrency: 3 },
      });
      expect(readProcessorEnvironment(env)).to.deep.equal({
        settings: JSON.parse(env[FUNCTION_ENV.settings]!),
        ...resources,
        stack: "prod",
      });
    });

    it("gives the API exactly the settings it reads at run time (delivery, not the distribution's), and reads them back with the optional web root", () => {
      const env = apiEnvironment(settings, { ...resources, webRoot: "/var/task/web" });
      expect(JSON.parse(env[FUNCTION_ENV.settings]!)).to.deep.equal({
        variants: settings.variants,
        maxUploadBytes: 700 * 1024 * 1024,
        uploadUrlTtlSeconds: 1200,
        legacyApi: true,
        delivery: "cdn",
        processingWindowSeconds: processingWindowSeconds(settings.processor, settings.queue),
      });
      expect(readApiEnvironment(env)).to.deep.equal({
        settings: JSON.parse(env[FUNCTION_ENV.settings]!),
        ...resources,
        webRoot: "/var/task/web",
      });
      expect(readApiEnvironment(apiEnvironment(settings, resources))).to.not.have.property("webRoot");
    });

    it("behind the CDN no secret: the signing key's parameter NAME exactly in token mode with cdn, and the URLs' lifetime", () => {
      const auth = { issuer: "https://issuer.example.com/", audience: "image-pipeline" };
      const signed = parseSettings({ auth, delivery: "cdn", variantUrlTtlSeconds: 900 });
      const env = apiEnvironment(signed, {
        ...resources,
        variantSigningKeyParameter: "image-pipeline-variant-signing-1-private",
      });
      expect(Object.keys(env).sort()).to.deep.equal(
        [
          FUNCTION_ENV.settings,
          FUNCTION_ENV.tableName,
          FUNCTION_ENV.uploadsBucket,
          FUNCTION_ENV.variantsBucket,
          "VARIANT_SIGNING_KEY_PARAMETER",
        ].sort(),
      );
      expect(JSON.parse(env[FUNCTION_ENV.settings]!).variantUrlTtlSeconds).to.equal(900);
      expect(readApiEnvironment(env).variantSigningKeyParameter).to.equal("image-pipeline-variant-signing-1-private");
      // Open mode behind the CDN, and token mode with presigned URLs: nothing is signed, nothing to name.
      for (const unsigned of [settings, parseSettings({ auth })]) {
        const plain = apiEnvironment(unsigned, resources);
        expect(plain).to.not.have.property("VARIANT_SIGNING_KEY_PARAMETER");
        expect(JSON.parse(plain[FUNCTION_ENV.settings]!)).to.not.have.property("variantUrlTtlSeconds");
        expect(() => apiEnvironment(unsigned, { ...resources, variantSigningKeyParameter: "p" })).to.throw(
          "VARIANT_SIGNING_KEY_PARAMETER is set exactly in token mode with delivery cdn",
        );
      }
      expect(() => apiEnvironment(signed, resources)).to.throw(
        "VARIANT_SIGNING_KEY_PARAMETER is set exactly in token mode with delivery cdn (delivery is cdn)",
      );
      const { VARIANT_SIGNING_KEY_PARAMETER: _name, ...withoutName } = env;
      expect(() => readApiEnvironment(withoutName)).to.throw(
        "Missing environment variable VARIANT_SIGNING_KEY_PARAMETER",
      );
    });

    it("names a missing or malformed variable, and refuses a setting the function does not read", () => {
      expect(() => readProcessorEnvironment({})).to.throw(`Missing environment variable ${FUNCTION_ENV.settings}`);
      const env = processorEnvironment(settings, { ...resources, stack: "prod" });
      expect(() => readProcessorEnvironment({ ...env, [FUNCTION_ENV.tableName]: "" })).to.throw(
        `Missing environment variable ${FUNCTION_ENV.tableName}`,
      );
      expect(() => readApiEnvironment({ ...env, [FUNCTION_ENV.settings]: "{not json" })).to.throw(
        SettingsError,
        "Expected JSON for PIPELINE_SETTINGS",
      );
      const full = { ...env, [FUNCTION_ENV.settings]: JSON.stringify(settings) };
      expect(() => readProcessorEnvironment(full)).to.throw(SettingsError, "Unknown setting allowedOrigins");
      const bad = {
        ...env,
        [FUNCTION_ENV.settings]: JSON.stringify({ ...JSON.parse(env[FUNCTION_ENV.settings]!), maxInputPixels: 0 }),
      };
      expect(() => readProcessorEnvironment(bad)).to.throw(
        SettingsError,
        "Expected integer between 1 and 2147483647 for maxInputPixels but received 0 of type number",
      );
    });
  });

  it("names the key of a bad setting in a stack file", () => {
    const error = errorOf(() => stackSettingsFromYaml("config:\n  image-pipeline:queue:\n    maxReceiveCount: 0\n"));
    expect(error.key).to.equal("queue.maxReceiveCount");
  });
});
