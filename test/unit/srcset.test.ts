import { expect } from "chai";
import { srcsetOf } from "../../handlers/api/srcset.js";
import { parseSettings } from "../../handlers/lib/config/settings.js";

const specs = parseSettings({
  variants: [
    { name: "small", width: 320, format: "webp" },
    { name: "big", width: 1600, format: "webp" },
    { name: "square", width: 200, height: 200, fit: "cover", format: "webp" },
    { name: "subject", width: 1024, height: 1024, fit: "cover", position: "attention", format: "webp" },
    { name: "jpeg-small", width: 320, format: "jpeg" },
  ],
}).variants;
const v = (name: string, width: number, format = "webp") => ({
  name,
  width,
  format,
  url: `https://cdn.example/${name}`,
});

describe("srcsetOf", () => {
  it("lists the inside variants of the commonest format, narrowest first, one candidate per width", () => {
    expect(srcsetOf([v("big", 1600), v("square", 200), v("jpeg-small", 320, "jpeg"), v("small", 320)], specs)).to.equal(
      "https://cdn.example/small 320w, https://cdn.example/big 1600w",
    );
    // A small original: both inside variants came out 300 px wide.
    expect(srcsetOf([v("small", 300), v("big", 300)], specs)).to.equal("https://cdn.example/small 300w");
  });

  it("leaves out cover crops, smart or not, even at a width no inside variant has", () => {
    expect(srcsetOf([v("small", 320), v("subject", 1024), v("square", 200)], specs)).to.equal(
      "https://cdn.example/small 320w",
    );
  });

  it("takes the first format on a tie, and nothing when no variant keeps the original's shape or is still configured", () => {
    expect(srcsetOf([v("jpeg-small", 320, "jpeg"), v("small", 320)], specs)).to.equal(
      "https://cdn.example/jpeg-small 320w",
    );
    expect(srcsetOf([v("square", 200), v("removed-since", 800)], specs)).to.equal(undefined);
  });
});
