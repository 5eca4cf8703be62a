import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/**
 * Every resource of a stack carries this tag (the provider's default tags), so the stack's spend can be told
 * apart from the account's: the budget filters on it. AWS counts a tag in cost reports only once it is activated
 * as a cost allocation tag (Billing console, after the first deployment).
 */
export const STACK_TAG_KEY = "image-pipeline-stack";

export function stackTags(stack: string = pulumi.getStack()): Record<string, string> {
  return { [STACK_TAG_KEY]: stack };
}

/**
 * The AWS provider every resource of the stack is created with: the stack's own region and profile settings
 * (`aws:region`, `aws:profile`; an explicit provider does not read them by itself) plus the stack tag.
 */
export function taggedProvider(name: string, stack: string = pulumi.getStack()): aws.Provider {
  return new aws.Provider(name, { region: aws.config.region, profile: aws.config.profile, defaultTags: { tags: stackTags(stack) } });
}
