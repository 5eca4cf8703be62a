import { expect } from "chai";
import { createImageEngine } from "../../handlers/lib/image/engine.js";
import type { Position, VariantSpec } from "../../handlers/lib/config/settings.js";
import { makeSubject, subjectPixels } from "../support/animations.js";

/** A 400 x 400 square of a 1200 x 400 image: the crop window slides along the width. */
const square = (position: Position): VariantSpec => ({
  name: "square",
  width: 400,
  height: 400,
  fit: "cover",
  position,
  format: "png",
  quality: 100,
});

async function cropOf(input: Buffer, position: Position) {
  const engine = createImageEngine({ variants: [square(position)], maxInputPixels: 100_000_000, concurrency: 1 });
  const [variant] = (await engine.process(input)).variants;
  return { variant: variant!, subject: await subjectPixels(variant!.buffer) };
}

describe("image engine: smart crops", () => {
  let input: Buffer;
  let whole: number;
  before(async () => {
    // The subject sits near the left edge (x 50 to 270): a centre crop keeps x 400 to 800 only.
    input = await makeSubject(1200, 400, { cx: 160, cy: 200, r: 110 });
    whole = await subjectPixels(input);
    expect(whole, "the subject's pixels in the original").to.be.above(10_000);
  });

  it("cuts the off-centre subject out with a centre crop", async () => {
    const { variant, subject } = await cropOf(input, "centre");
    expect([variant.width, variant.height]).to.deep.equal([400, 400]);
    expect(subject).to.equal(0);
  });

  for (const position of ["attention", "entropy"] as const) {
    it(`keeps the whole off-centre subject with an ${position} crop`, async () => {
      const { variant, subject } = await cropOf(input, position);
      expect([variant.width, variant.height]).to.deep.equal([400, 400]);
      // A lossless PNG at the original's scale: every subject pixel is there, or almost (edges blend).
      expect(subject).to.be.at.least(Math.floor(whole * 0.95));
    });
  }

  it("scales before it crops: a 200 x 200 attention square of the same image keeps the subject at half size", async () => {
    const engine = createImageEngine({
      variants: [{ ...square("attention"), width: 200, height: 200 }],
      maxInputPixels: 100_000_000,
      concurrency: 1,
    });
    const [variant] = (await engine.process(input)).variants;
    expect([variant!.width, variant!.height]).to.deep.equal([200, 200]);
    expect(await subjectPixels(variant!.buffer)).to.be.at.least(Math.floor((whole / 4) * 0.85));
  });
});
