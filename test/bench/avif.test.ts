import { expect } from "chai";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { benchAvif, renderAvif } from "../../bench/avif.js";
import { AVIF_EFFORT } from "../../handlers/lib/image/engine.js";
import { DEFAULT_QUALITY, parseSettings } from "../../handlers/lib/config/settings.js";
import { makePhoto } from "../support/images.js";

/** bench --only avif on a small photo: its rows are at matched fidelity, and their ratios are against the WebP row. */
describe("bench: AVIF against WebP at matched fidelity (bench/avif.ts)", function () {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "bench-avif-"));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it("the WebP row, the engine's AVIF row, then each effort tried at the lowest quality that reaches WebP's PSNR", async function () {
    this.timeout(60_000);
    const path = join(dir, "photo.jpg");
    await writeFile(path, await makePhoto({ width: 640, height: 480, format: "jpeg", seed: 41 }));
    const bench = await benchAvif({
      photo: { name: "photo", path },
      settings: parseSettings({
        variants: [
          { name: "a", width: 200 },
          { name: "b", width: 400 },
        ],
      }),
      runs: 1,
      tried: [{ chroma: "4:4:4", efforts: [0, 1] }],
      log: () => {},
    });
    const [webp, engine, ...matched] = bench.rows;
    expect(webp).to.deep.include({ format: "webp", quality: DEFAULT_QUALITY.webp, cpuRatio: 1, bytesRatio: 1 });
    expect(engine).to.deep.include({ format: "avif", quality: DEFAULT_QUALITY.avif, effort: AVIF_EFFORT });
    expect(matched.map((row) => [row.effort, row.chroma])).to.deep.equal([
      [0, "4:4:4"],
      [1, "4:4:4"],
    ]);
    for (const row of matched) {
      expect(row.psnrDb, row.label).to.be.at.least(webp!.psnrDb);
      expect(row.bytesRatio).to.be.closeTo(row.bytes / webp!.bytes, 1e-9);
      expect(row.cpuMsPerImage).to.be.greaterThan(0);
    }
    expect(bench.variants.map((v) => v.width)).to.deep.equal([200, 400]);
    expect(renderAvif(bench)).to.include(`AVIF q${matched[0]!.quality} e0 4:4:4 (matched)`);
  });
});
