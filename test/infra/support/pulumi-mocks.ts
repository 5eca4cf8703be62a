import * as pulumi from "@pulumi/pulumi";

/**
 * Pulumi unit-test harness: installs mocks that record every resource the program registers (type, name,
 * inputs, parent and dependencies, as the engine would receive them), answers the one data-source call the
 * program makes, and throws for any other call, so an unexpected lookup fails the test instead of passing
 * with made-up data.
 */

export const ACCOUNT_ID = "123456789012";
export const REGION = "us-east-1";

/**
 * The outputs docs/design.md lists, as the mocks name the resources of a pipeline called "image-pipeline" in `stack`
 * (the dashboard is named after project and stack).
 */
export const expectedOutputs = (stack: string) => ({
  apiUrl: `https://image-pipeline-api-url.lambda-url.${REGION}.on.aws/`,
  uploadsBucket: "image-pipeline-uploads-bkt",
  variantsBucket: "image-pipeline-variants-bkt",
  queueUrl: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT_ID}/image-pipeline-jobs`,
  dlqUrl: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT_ID}/image-pipeline-jobs-dlq`,
  tableName: "image-pipeline-images-tbl",
  dashboardUrl: `https://${REGION}.console.aws.amazon.com/cloudwatch/home?region=${REGION}#dashboards:name=image-pipeline-${stack}-operations`,
});
export const EXPECTED_OUTPUTS = expectedOutputs("test");
export const PROJECT = "image-pipeline";

export interface RecordedResource {
  urn: string;
  type: string;
  name: string;
  custom: boolean;
  inputs: Record<string, any>;
  /** URN of the parent resource (the stack for top-level resources). */
  parent: string;
  /** URNs of the resources this one waits for (explicit dependsOn and those behind its inputs). */
  dependencies: string[];
  /** The provider reference (`<provider urn>::<id>`) of a custom resource; empty for the default provider. */
  provider: string;
  /** The `retainOnDelete` resource option. */
  retainOnDelete: boolean;
}

export interface Recorder {
  resources: RecordedResource[];
  /** Waits until every registration the program started has reached the mock. */
  settled(): Promise<void>;
  /** The one resource of `type` named `name`; fails when absent. */
  get(type: string, name: string): RecordedResource;
  ofType(type: string): RecordedResource[];
}

/** Settings as stack config, keyed as in `Pulumi.<stack>.yaml` (`image-pipeline:processor`). */
export type StackConfig = Record<string, unknown>;

function outputsFor(type: string, name: string, inputs: Record<string, any>): Record<string, unknown> {
  const arn = (service: string, resource: string) => `arn:aws:${service}:${REGION}:${ACCOUNT_ID}:${resource}`;
  switch (type) {
    case "aws:s3/bucket:Bucket":
      return {
        ...inputs,
        bucket: `${name}-bkt`,
        arn: `arn:aws:s3:::${name}-bkt`,
        bucketRegionalDomainName: `${name}-bkt.s3.${REGION}.amazonaws.com`,
      };
    case "aws:sqs/queue:Queue":
      return {
        ...inputs,
        name,
        url: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT_ID}/${name}`,
        arn: arn("sqs", name),
      };
    case "aws:dynamodb/table:Table":
      return { ...inputs, name: `${name}-tbl`, arn: arn("dynamodb", `table/${name}-tbl`) };
    case "aws:lambda/function:Function":
      return { ...inputs, name: `${name}-fn`, arn: arn("lambda", `function:${name}-fn`) };
    case "aws:lambda/functionUrl:FunctionUrl":
      return { ...inputs, functionUrl: `https://${name}.lambda-url.${REGION}.on.aws/` };
    case "aws:cloudwatch/logGroup:LogGroup":
      return { ...inputs, name: `/aws/lambda/${name}`, arn: arn("logs", `log-group:/aws/lambda/${name}`) };
    case "aws:iam/role:Role":
      return { ...inputs, arn: `arn:aws:iam::${ACCOUNT_ID}:role/${name}` };
    case "aws:cloudwatch/eventBus:EventBus":
      return { ...inputs, name: `${name}-bus`, arn: arn("events", `event-bus/${name}-bus`) };
    case "aws:cloudwatch/eventRule:EventRule":
      return { ...inputs, name: `${name}-rule`, arn: arn("events", `rule/${name}-rule`) };
    case "aws:cloudwatch/eventApiDestination:EventApiDestination":
      return { ...inputs, arn: arn("events", `api-destination/${name}`) };
    case "aws:cloudwatch/eventConnection:EventConnection":
      return { ...inputs, arn: arn("events", `connection/${name}`) };
    case "aws:cloudfront/distribution:Distribution":
      return {
        ...inputs,
        domainName: `${name}.cloudfront.net`,
        arn: `arn:aws:cloudfront::${ACCOUNT_ID}:distribution/${name}-id`,
      };
    case "aws:cloudfront/function:Function":
      return { ...inputs, arn: `arn:aws:cloudfront::${ACCOUNT_ID}:function/${name}` };
    case "aws:wafv2/webAcl:WebAcl":
      return { ...inputs, arn: `arn:aws:wafv2:us-east-1:${ACCOUNT_ID}:global/webacl/${name}/${name}-id` };
    case "random:index/randomPassword:RandomPassword":
      return { ...inputs, result: `${name}-value` };
    case "tls:index/privateKey:PrivateKey":
      return {
        ...inputs,
        publicKeyPem: `-----BEGIN PUBLIC KEY-----\n${name}\n-----END PUBLIC KEY-----\n`,
        privateKeyPem: `-----BEGIN RSA PRIVATE KEY-----\n${name}\n-----END RSA PRIVATE KEY-----\n`,
      };
    case "aws:ssm/parameter:Parameter":
      return { ...inputs, name: `${name}-param`, arn: arn("ssm", `parameter/${name}-param`) };
    case "aws:sns/topic:Topic":
      return { ...inputs, arn: arn("sns", name) };
    default:
      return { ...inputs, arn: arn("mock", name) };
  }
}

/**
 * Replaces the stack config with `config`, then installs fresh mocks. Call before constructing (or importing)
 * the program; each call starts an independent recording.
 */
export async function installMocks(config: StackConfig = {}, stack = "test", project = PROJECT): Promise<Recorder> {
  pulumi.runtime.setAllConfig(
    Object.fromEntries(Object.entries(config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)])),
  );
  const resources: RecordedResource[] = [];

  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const state = outputsFor(args.type, args.name, args.inputs);
        return { id: args.custom ? `${args.name}-id` : undefined, state };
      },
      call(args) {
        if (args.token === "aws:index/getRegion:getRegion") {
          // The region of the provider the call went through (its `region` input), else the default provider's.
          const provider = resources.find((r) => args.provider !== undefined && args.provider.startsWith(`${r.urn}::`));
          const region = (provider?.inputs.region as string | undefined) ?? REGION;
          return { id: region, name: region, region, endpoint: `ec2.${region}.amazonaws.com`, description: region };
        }
        if (args.token === "aws:index/getCallerIdentity:getCallerIdentity") {
          return {
            accountId: ACCOUNT_ID,
            arn: `arn:aws:iam::${ACCOUNT_ID}:user/test`,
            userId: "AIDTEST",
            id: ACCOUNT_ID,
          };
        }
        throw new Error(`unexpected call ${args.token} ${JSON.stringify(args.inputs)}`);
      },
    },
    project,
    stack,
    false,
  );

  // The mock monitor hands newResource only type, name and inputs; the parent and dependencies are in the
  // request itself, so record them there.
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource(req: any, callback: (error: unknown, response: any) => void): void;
  };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    const pending = {
      parent: req.getParent(),
      dependencies: req.getDependenciesList() as string[],
      provider: req.getProvider() as string,
      retainOnDelete: req.getRetainondelete() === true,
    };
    register(req, (error, response) => {
      if (!error) {
        resources.push({
          urn: response.getUrn(),
          type: req.getType(),
          name: req.getName(),
          custom: req.getCustom(),
          inputs: pulumi.runtime.deserializeProperties(req.getObject()),
          ...pending,
        });
      }
      callback(error, response);
    });
  };

  const recorder: Recorder = {
    resources,
    async settled() {
      // Internal but stable since 2019: resolves once every outstanding RPC (resource registrations included) is done.
      await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
    },
    get(type, name) {
      const found = resources.filter((r) => r.type === type && r.name === name);
      if (found.length !== 1) {
        const names = resources.filter((r) => r.type === type).map((r) => r.name);
        throw new Error(
          `expected one ${type} named ${name}, found ${found.length} (of this type: ${names.join(", ") || "none"})`,
        );
      }
      return found[0]!;
    },
    ofType(type) {
      return resources.filter((r) => r.type === type);
    },
  };
  return recorder;
}

/** The value of an output, awaited (never assert inside an apply). */
export function valueOf<T>(output: pulumi.Output<T> | pulumi.Input<T>): Promise<T> {
  return new Promise((resolve) => pulumi.output(output).apply((value) => resolve(value as T)));
}

/** A policy document given as JSON (string input), parsed. */
export function policy(resource: RecordedResource, field = "policy"): { Version: string; Statement: any[] } {
  const raw = resource.inputs[field];
  if (typeof raw !== "string")
    throw new Error(`${resource.name}.${field} is not a JSON string: ${JSON.stringify(raw)}`);
  return JSON.parse(raw);
}
