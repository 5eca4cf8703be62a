import { expect } from "chai";
import { publicView } from "../../handlers/lib/contract/public-view.js";
import type { ImageRecord } from "../../handlers/lib/storage/records.js";
import { toImageView } from "../../handlers/api/images.js";
import type { ApiContext } from "../../handlers/api/api-context.js";
import { completionEventOf } from "../../handlers/processor/completion-events.js";
import { DEFAULT_VARIANTS } from "../../handlers/lib/config/settings.js";

function record(overrides: Partial<ImageRecord>): ImageRecord {
  return {
    id: "img-1",
    status: "done",
    filename: "cat.jpg",
    contentType: "image/jpeg",
    createdAt: "2026-01-01T00:00:00.000Z",
    updatedAt: "2026-01-01T00:00:05.000Z",
    attempts: 1,
    sequencer: "0000000000000000000000000000000000000000000000000000000000000001",
    owner: "alice",
    original: { bytes: 1000, width: 640, height: 480, format: "jpeg" },
    variants: [
      { name: "thumb", key: "variants/img-1/thumb.webp", width: 320, height: 240, format: "webp", bytes: 100 },
    ],
    placeholder: "data:image/webp;base64,AAAA",
    ...overrides,
  };
}

const context = { settings: { variants: DEFAULT_VARIANTS } } as unknown as ApiContext;
const urlOf = async (v: { key: string }) => `https://cdn.example/${v.key}`;

describe("the record as clients see it (publicView)", () => {
  it("shows a done image's variants without their keys, and no storage detail", () => {
    expect(publicView(record({}))).to.deep.equal({
      id: "img-1",
      status: "done",
      filename: "cat.jpg",
      original: { bytes: 1000, width: 640, height: 480, format: "jpeg" },
      variants: [{ name: "thumb", width: 320, height: 240, format: "webp", bytes: 100 }],
      placeholder: "data:image/webp;base64,AAAA",
      createdAt: "2026-01-01T00:00:00.000Z",
      updatedAt: "2026-01-01T00:00:05.000Z",
    });
  });

  it("shows a failed image's error, but neither variants nor the error of an attempt that will be retried", () => {
    const error = { code: "corrupt_image", message: "The image data is damaged" };
    expect(publicView(record({ status: "failed", error })))
      .to.include({ status: "failed" })
      .and.to.have.property("error")
      .deep.equal(error);
    expect(publicView(record({ status: "failed", error })).variants).to.deep.equal([]);
    const retrying = publicView(
      record({ status: "processing", error: { code: "s3_error", message: "AccessDenied on bucket-x" } }),
    );
    expect(retrying).not.to.have.property("error");
    expect(retrying.variants).to.deep.equal([]);
  });

  it("is what the API shows (plus URLs, srcset and sources) and what a completion event carries (plus owner and event id)", async () => {
    for (const r of [
      record({}),
      record({ status: "failed", error: { code: "corrupt_image", message: "damaged" }, variants: [] }),
    ]) {
      const { srcset: _srcset, sources: _sources, variants, ...apiRest } = await toImageView(context, r, urlOf);
      expect({ ...apiRest, variants: variants.map(({ url: _url, ...v }) => v) }).to.deep.equal(publicView(r));
      expect(variants.map((v) => v.url)).to.deep.equal(
        r.status === "done" ? ["https://cdn.example/variants/img-1/thumb.webp"] : [],
      );

      const event = completionEventOf({ outcome: r.status as "done" | "failed", messageId: "m-1", record: r });
      const { eventId, owner, ...eventRest } = event!.detail;
      expect(eventRest).to.deep.equal(publicView(r));
      expect([eventId, owner]).to.deep.equal([`img-1:${r.sequencer}`, "alice"]);
    }
  });
});
