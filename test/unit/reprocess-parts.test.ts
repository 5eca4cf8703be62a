import { expect } from "chai";
import { variantKey } from "../../handlers/lib/storage/keys.js";
import { objectKeysOf } from "../../handlers/lib/storage/records.js";
import { reprocessJobBody } from "../../handlers/processor/reprocess-job.js";
import { parseMessageBody } from "../../handlers/processor/s3-event.js";
import { subjectOf } from "../../ops/dlq/dead-letter.js";
import { progressLine } from "../../ops/reprocess/progress.js";

const ID = "01900000-0000-7000-8000-00000000000d";

describe("reprocess: keys, jobs and progress", () => {
  it("a key carries its generation after the first: name.g{N}.ext", () => {
    expect(variantKey(ID, { name: "thumb", format: "webp" })).to.equal(`variants/${ID}/thumb.webp`);
    expect(variantKey(ID, { name: "thumb", format: "webp" }, 1)).to.equal(`variants/${ID}/thumb.webp`);
    expect(variantKey(ID, { name: "card", format: "jpeg" }, 3)).to.equal(`variants/${ID}/card.g3.jpg`);
    expect(() => variantKey(ID, { name: "card", format: "jpeg" }, 0)).to.throw(RangeError);
  });

  it("objectKeysOf names every variant's key once, each object a variant lists and its negotiated objects", () => {
    const variant = { width: 1, height: 1, format: "webp" as const, bytes: 1 };
    const keys = objectKeysOf({
      id: "x",
      variants: [
        { ...variant, name: "a", key: "variants/x/a.webp" },
        { ...variant, name: "b", key: "variants/x/a.webp" },
        { ...variant, name: "c", key: "variants/x/c.webp", objects: [{ key: "variants/x/c.avif" }] } as never,
        { ...variant, name: "d", key: "variants/x/d.webp", negotiated: ["avif", "webp"] },
      ],
    });
    expect([...keys]).to.deep.equal([
      "variants/x/a.webp",
      "variants/x/c.webp",
      "variants/x/c.avif",
      "variants/x/d.webp",
      "variants/x/d/for-avif",
      "variants/x/d/for-webp",
    ]);
    expect([...objectKeysOf(undefined)]).to.deep.equal([]);
  });

  it("a job body round-trips through the processor's parser; the DLQ listing names its image and run", () => {
    const body = reprocessJobBody({ id: ID, run: "r1-abc" });
    expect(parseMessageBody(body)).to.deep.equal({ kind: "reprocess", job: { id: ID, run: "r1-abc" } });
    expect(subjectOf(body)).to.deep.equal({ imageId: ID, note: "reprocess job of run r1-abc" });
  });

  it("progress: a bar redrawn in place on a terminal, a plain line elsewhere, both with counts and rate", () => {
    const state = { total: 4, sent: 3, done: 1, failed: 0, gone: 1, rate: 1.5 };
    expect(progressLine(state, true)).to.equal(
      "\r[############............] 2/4 finished (done 1, failed 0, original gone 1); sent 3; 1.5 jobs/s",
    );
    expect(progressLine(state, false)).to.equal(
      "reprocess: 2/4 finished (done 1, failed 0, original gone 1); sent 3; 1.5 jobs/s",
    );
  });
});
