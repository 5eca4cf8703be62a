import { randomUUID } from "node:crypto";
import { CreateInvalidationCommand, type CloudFrontClient } from "@aws-sdk/client-cloudfront";
import { VARIANTS_PREFIX } from "./keys.js";

/** The one call this module makes, so tests can record it (a CloudFrontClient fits). */
export type InvalidationClient = Pick<CloudFrontClient, "send">;

/** Removes every cached variant of one image from the distribution's edges. */
export type VariantInvalidator = (distributionId: string, imageId: string) => Promise<void>;

/** The edge path of every variant of `imageId`: one wildcard path, billed as one path. */
export function variantsPathOf(imageId: string): string {
  return `/${VARIANTS_PREFIX}${imageId}/*`;
}

/**
 * Invalidations through `client`. A failure (throttling, a network error) is thrown for the caller to treat as
 * transient; the caller reference is unique per call, so a retry is a new invalidation, never a no-op.
 */
export function createVariantInvalidator(
  client: InvalidationClient,
  newReference: () => string = randomUUID,
): VariantInvalidator {
  return async (distributionId, imageId) => {
    await client.send(
      new CreateInvalidationCommand({
        DistributionId: distributionId,
        InvalidationBatch: {
          CallerReference: `delete-${imageId}-${newReference()}`,
          Paths: { Quantity: 1, Items: [variantsPathOf(imageId)] },
        },
      }),
    );
  };
}
