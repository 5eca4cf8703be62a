import { expect } from "chai";
import { FinalError } from "../../handlers/lib/errors.js";
import type { EngineResult } from "../../handlers/lib/image/engine.js";
import type { VariantSpec } from "../../handlers/lib/config/settings.js";

/** What the engine tests resize to: the default stack's three WebP variants. */
export const WEBP_VARIANTS: VariantSpec[] = [
  { name: "thumb", width: 320, fit: "inside", format: "webp", quality: 80 },
  { name: "medium", width: 1024, fit: "inside", format: "webp", quality: 80 },
  { name: "large", width: 2048, fit: "inside", format: "webp", quality: 80 },
];

export type Dimensions = [name: string, width: number, height: number, format: string];

export function dimensionsOf(result: EngineResult): Dimensions[] {
  return result.variants.map((v) => [v.name, v.width, v.height, v.format]);
}

/** The FinalError a processing promise rejects with; fails the test when it succeeds or fails otherwise. */
export async function finalErrorOf(promise: Promise<unknown>): Promise<FinalError> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(FinalError);
    return error as FinalError;
  }
  throw new Error("expected a FinalError, the engine succeeded");
}

/** Each expected channel within `tolerance` of the pixel's (lossy encodings blur exact values). */
export function expectColour(actual: number[], expected: number[], tolerance = 40): void {
  expect(actual.length, `channels of ${actual}`).to.be.at.least(expected.length);
  expected.forEach((value, i) =>
    expect(Math.abs(actual[i]! - value), `channel ${i} of [${actual}] vs [${expected}]`).to.be.at.most(tolerance),
  );
}
