import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { ResourceTypes } from "./resource-types.js";

export interface VariantSigningKeyArgs {
  /**
   * The key pairs' generations, oldest first. Every one is in the key group (CloudFront accepts URLs signed by
   * any), and the last is the one the API signs with. Rotating without downtime is three deploys: append a new
   * generation (both trusted, the new one signs), wait until no URL signed by the old one is in use (the
   * API's containers keep the key they read for their lifetime, so wait that long and `variantUrlTtlSeconds`
   * besides), then drop the old generation. docs/security.md has the steps.
   * @default ["1"]
   */
  generations?: string[];
}

/**
 * The key pairs CloudFront checks signed variant URLs with (token mode with `delivery: cdn`): each made by the
 * program (`@pulumi/tls`, RSA 2048, one of the two kinds CloudFront accepts), its public half a CloudFront public
 * key in one key group, the signing generation's private half in an SSM SecureString parameter (encrypted with
 * the account's `aws/ssm` key) as JSON `{keyPairId, privateKey}`, for the API to read
 * (handlers/api/variant-signing.ts). No policy grants reading it but the API's (components/http-api.ts); the
 * private key is otherwise only in the stack's state, encrypted as a secret, and never in an output.
 */
export class VariantSigningKey extends pulumi.ComponentResource {
  readonly keys: Array<{ generation: string; privateKey: tls.PrivateKey; publicKey: aws.cloudfront.PublicKey }>;
  readonly keyGroup: aws.cloudfront.KeyGroup;
  readonly parameter: aws.ssm.Parameter;
  /** For the variants behaviour's `trustedKeyGroups`. */
  readonly keyGroupId: pulumi.Output<string>;
  readonly parameterName: pulumi.Output<string>;
  readonly parameterArn: pulumi.Output<string>;

  constructor(name: string, args: VariantSigningKeyArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super(ResourceTypes.VariantSigningKey, name, {}, opts);
    const parent = { parent: this };
    const generations = args.generations ?? ["1"];
    if (generations.length === 0 || generations.length > 2 || new Set(generations).size !== generations.length) {
      throw new Error(
        `${name}: generations is one key, or two while rotating (received ${JSON.stringify(generations)})`,
      );
    }
    for (const generation of generations) {
      if (!/^[a-z0-9-]{1,16}$/.test(generation))
        throw new Error(`${name}: generation ${JSON.stringify(generation)} is not 1-16 of a-z, 0-9, -`);
    }

    this.keys = generations.map((generation) => {
      const privateKey = new tls.PrivateKey(`${name}-${generation}`, { algorithm: "RSA", rsaBits: 2048 }, parent);
      const publicKey = new aws.cloudfront.PublicKey(
        `${name}-${generation}`,
        { encodedKey: privateKey.publicKeyPem, comment: `image-pipeline variant URLs, key generation ${generation}` },
        parent,
      );
      return { generation, privateKey, publicKey };
    });
    this.keyGroup = new aws.cloudfront.KeyGroup(
      `${name}-group`,
      {
        items: this.keys.map((key) => key.publicKey.id),
        comment: "Keys whose signed URLs the variants behaviour accepts",
      },
      parent,
    );

    // The parameter is named for the signing generation, so a rotation gives the API a new parameter name, hence
    // a new configuration and fresh containers, none of which keeps the old key it had read.
    const signing = this.keys[this.keys.length - 1]!;
    this.parameter = new aws.ssm.Parameter(
      `${name}-${signing.generation}-private`,
      {
        type: "SecureString",
        description: "The private key variant URLs are signed with; readable by the API's role only",
        value: pulumi.secret(
          pulumi.jsonStringify({ keyPairId: signing.publicKey.id, privateKey: signing.privateKey.privateKeyPem }),
        ),
      },
      parent,
    );

    this.keyGroupId = this.keyGroup.id;
    this.parameterName = this.parameter.name;
    this.parameterArn = this.parameter.arn;
    this.registerOutputs({ keyGroupId: this.keyGroupId, parameterName: this.parameterName });
  }
}
