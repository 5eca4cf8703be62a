import { expect } from "chai";
import { negotiationFunctionCode } from "../../components/negotiation-function.js";
import { chooseFormat, isNegotiatedPath } from "../../handlers/lib/contract/negotiation.js";
import { negotiatedFormats, negotiatedObjects } from "../../handlers/processor/negotiated-objects.js";
import type { EncodedObject } from "../../handlers/lib/image/engine.js";
import type { OutputFormat } from "../../handlers/lib/config/settings.js";
import { runEdgeFunction } from "../support/edge-function.js";

const AVIF_WEBP = [
  { format: "avif", type: "image/avif" },
  { format: "webp", type: "image/webp" },
];
const ID = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";

describe("format negotiation (handlers/lib/contract/negotiation.ts)", () => {
  const cases: [string, string][] = [
    ["image/avif,image/webp,*/*", "avif"],
    ["image/webp,*/*", "webp"],
    ["*/*", "webp"],
    ["", "webp"],
    // Chrome's and Safari's real headers.
    ["image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8", "avif"],
    ["image/webp,image/avif,video/*;q=0.8,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5", "avif"],
    // A wildcard is no promise to decode AVIF; q=0 refuses it; case and spaces do not matter.
    ["image/*", "webp"],
    ["image/avif;q=0, image/webp", "webp"],
    ["IMAGE/AVIF ; q=0.5", "avif"],
    ["image/avif;q=abc", "webp"],
  ];
  for (const [accept, expected] of cases) {
    it(`Accept ${JSON.stringify(accept)}: ${expected}`, () => {
      expect(chooseFormat(accept, AVIF_WEBP)).to.equal(expected);
    });
  }

  it("the fallback is whatever the stack lists last, and a single format is always chosen", () => {
    const avifJpeg = [
      { format: "avif", type: "image/avif" },
      { format: "jpeg", type: "image/jpeg" },
    ];
    expect(chooseFormat("image/webp,*/*", avifJpeg)).to.equal("jpeg");
    expect(chooseFormat("image/avif", [{ format: "webp", type: "image/webp" }])).to.equal("webp");
  });

  it("takes exactly the extension-less variant paths", () => {
    expect(isNegotiatedPath(`/variants/${ID}/thumb`)).to.equal(true);
    for (const path of [
      `/variants/${ID}/thumb.webp`,
      `/variants/${ID}/thumb/for-avif`,
      `/variants/${ID}/`,
      `/variants/${ID}/Thumb`,
      `/images/${ID}`,
    ])
      expect(isNegotiatedPath(path), path).to.equal(false);
  });

  describe("the edge function's code, run alone as CloudFront Functions runs it", () => {
    const code = negotiationFunctionCode(["avif", "webp"]);
    const path = `/variants/${ID}/thumb`;

    for (const [accept, expected] of cases.slice(0, 3)) {
      it(`Accept ${accept}: rewrites to the for-${expected} object`, () => {
        expect(runEdgeFunction(code, path, accept)).to.equal(`${path}/for-${expected}`);
      });
    }

    it("no Accept: the fallback; keyed objects and other paths pass untouched", () => {
      expect(runEdgeFunction(code, path)).to.equal(`${path}/for-webp`);
      expect(runEdgeFunction(code, `${path}.webp`, "image/avif")).to.equal(`${path}.webp`);
      expect(runEdgeFunction(code, `${path}/for-webp`, "image/avif")).to.equal(`${path}/for-webp`);
    });

    it("embeds the module's own functions, not a copy", () => {
      expect(code).to.include(chooseFormat.toString());
      expect(code).to.include(isNegotiatedPath.toString());
    });
  });
});

describe("negotiated objects (handlers/processor/negotiated-objects.ts)", () => {
  const object = (format: OutputFormat): EncodedObject => ({
    format,
    contentType: `image/${format}`,
    bytes: format.length,
    buffer: Buffer.from(format),
  });
  const held = (objects: EncodedObject[], formats: OutputFormat[]) =>
    negotiatedObjects({ objects }, formats).map(({ forFormat, object }) => [forFormat, object.format]);

  it("each viewer's best format gets that format when the variant has it", () => {
    expect(held([object("avif"), object("webp")], ["avif", "webp"])).to.deep.equal([
      ["avif", "avif"],
      ["webp", "webp"],
    ]);
  });

  it("an animation (no AVIF made) answers its AVIF viewers with its WebP", () => {
    expect(held([object("webp")], ["avif", "webp"])).to.deep.equal([
      ["avif", "webp"],
      ["webp", "webp"],
    ]);
  });

  it("a variant of its own single format answers every viewer with it", () => {
    expect(held([object("jpeg")], ["avif", "webp"])).to.deep.equal([
      ["avif", "jpeg"],
      ["webp", "jpeg"],
    ]);
  });

  it("a viewer is never given a format before its best in the stack's list", () => {
    expect(held([object("avif"), object("webp"), object("jpeg")], ["avif", "webp", "jpeg"])).to.deep.equal([
      ["avif", "avif"],
      ["webp", "webp"],
      ["jpeg", "jpeg"],
    ]);
  });

  it("only with delivery: cdn (nothing else answers an extension-less URL)", () => {
    expect(negotiatedFormats({ formats: ["avif", "webp"], delivery: "cdn" })).to.deep.equal(["avif", "webp"]);
    expect(negotiatedFormats({ formats: ["avif", "webp"], delivery: "presigned" })).to.deep.equal([]);
  });
});
