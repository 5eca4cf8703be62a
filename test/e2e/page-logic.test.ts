/**
 * The page's plain logic (web/*.js), run in Node: what a person reads about a refused or failed file, savings,
 * the bounded upload slots, and polling's backoff and bound. The browser tests cover the rest in Chromium.
 */
import { expect } from "chai";
import { IMAGE_FAILURE_CODES } from "../../handlers/lib/errors.js";

// web/ is browser JavaScript outside the TypeScript project, so its modules are loaded by URL and typed here.
interface WebConfig {
  maxUploadBytes: number;
  acceptedTypes: string[];
}
interface FormatModule {
  describeFailure(error: { code?: string; message?: string } | undefined): string;
  savingPercent(variantBytes: number, originalBytes: number | undefined): number | undefined;
  describeSaving(percent: number | undefined): string;
  formatBytes(bytes: number): string;
}
interface FileChecksModule {
  refusalOf(file: File, config: WebConfig): string | undefined;
  previewNoteOf(file: File): string | undefined;
}
interface LimitModule {
  createLimit(concurrency: number): <T>(task: () => Promise<T>) => Promise<T>;
}
type PollOutcome = { outcome: "settled" | "gave-up"; image?: { status: string } };
interface PollModule {
  pollImage(id: string, onUpdate: (image: { status: string }) => void, options: object): Promise<PollOutcome>;
}

const load = <T>(name: string): Promise<T> => import(new URL(`../../web/${name}`, import.meta.url).href) as Promise<T>;
const { describeFailure, savingPercent, describeSaving, formatBytes } = await load<FormatModule>("format.js");
const { refusalOf, previewNoteOf } = await load<FileChecksModule>("file-checks.js");
const { createLimit } = await load<LimitModule>("limit.js");
const { pollImage } = await load<PollModule>("poll.js");

const CONFIG: WebConfig = { maxUploadBytes: 1000, acceptedTypes: ["image/jpeg", "image/png", "image/webp"] };

describe("the page's logic", function () {
  describe("failure reasons", function () {
    it("puts every final error code an image can fail with (the processor's own list) into plain words", function () {
      const words: Record<string, string> = {
        not_an_image: "This file is not an image: its contents could not be read as a picture.",
        unsupported_format: "This image format is not supported. Save it as JPEG, PNG or WebP and upload it again.",
        too_many_pixels: "This image has too many pixels to process. Reduce its width and height and upload it again.",
        too_many_frames: "This animation has too many frames to process. Shorten it and upload it again.",
        corrupt_image: "This image is damaged or incomplete, so it could not be decoded. Export it again and retry.",
        empty_file: "This file is empty: it holds no image data.",
        too_large: "This file is larger than the pipeline accepts.",
        original_missing: "The uploaded file could not be found any more. Upload it again.",
      };
      // A code added to the processor fails here until the page words it.
      expect(Object.keys(words)).to.have.members([...IMAGE_FAILURE_CODES]);
      for (const code of IMAGE_FAILURE_CODES)
        expect(describeFailure({ code, message: "machine text" }), code).to.equal(words[code]);
    });

    it("falls back to the server's message for an unknown code, and to a generic sentence without one", function () {
      expect(describeFailure({ code: "bad_event", message: "The event named no object" })).to.equal(
        "The event named no object",
      );
      expect(describeFailure(undefined)).to.equal("Processing failed for an unknown reason.");
    });
  });

  describe("refusing files before any request", function () {
    it("refuses a type the pipeline does not accept, naming it and the accepted ones", function () {
      expect(refusalOf(new File(["hi"], "notes.txt", { type: "text/plain" }), CONFIG)).to.equal(
        "It is a text/plain file; the pipeline accepts JPEG, PNG or WebP images.",
      );
      expect(refusalOf(new File(["x"], "scan.heic", { type: "" }), CONFIG)).to.equal(
        "It is a HEIC file; the pipeline accepts JPEG, PNG or WebP images.",
      );
      expect(refusalOf(new File(["x"], "README", { type: "" }), CONFIG)).to.equal(
        "It is a file of unknown type; the pipeline accepts JPEG, PNG or WebP images.",
      );
    });

    it("accepts HEIC and HEIF, by type or by extension alone, where the API lists them", function () {
      const withHeic = { ...CONFIG, acceptedTypes: [...CONFIG.acceptedTypes, "image/heic", "image/heif"] };
      for (const file of [
        new File(["x"], "IMG_0001.HEIC", { type: "" }),
        new File(["x"], "a.heif", { type: "" }),
        new File(["x"], "b", { type: "image/heic" }),
      ]) {
        expect(refusalOf(file, withHeic), file.name).to.equal(undefined);
      }
    });

    it("says a HEIC or HEIF cannot be previewed by the browser, and nothing for a JPEG", function () {
      expect(previewNoteOf(new File(["x"], "IMG_0001.HEIC", { type: "" }))).to.equal(
        "Browsers cannot show HEIC photos; a preview appears here once it is converted.",
      );
      expect(previewNoteOf(new File(["x"], "photo", { type: "image/heif" }))).to.equal(
        "Browsers cannot show HEIF photos; a preview appears here once it is converted.",
      );
      expect(previewNoteOf(new File(["x"], "photo.jpg", { type: "image/jpeg" }))).to.equal(undefined);
    });

    it("refuses an empty file and one over maxUploadBytes, and accepts one at the limit", function () {
      expect(refusalOf(new File([], "empty.png", { type: "image/png" }), CONFIG)).to.equal("It is empty.");
      expect(refusalOf(new File([new Uint8Array(1001)], "big.jpg", { type: "image/jpeg" }), CONFIG)).to.equal(
        "It is 1001 B; the largest upload is 1000 B.",
      );
      expect(refusalOf(new File([new Uint8Array(1000)], "fits.jpg", { type: "image/jpeg" }), CONFIG)).to.equal(
        undefined,
      );
      expect(refusalOf(new File([new Uint8Array(10)], "PHOTO.JPG", { type: "" }), CONFIG)).to.equal(undefined);
    });
  });

  it("states savings truncated, so a tiny variant never reads as 100% smaller", function () {
    expect(describeSaving(savingPercent(5_600, 1_200_000))).to.equal("99% smaller");
    expect(describeSaving(savingPercent(500, 1_000))).to.equal("50% smaller");
    expect(describeSaving(savingPercent(1_032, 1_000))).to.equal("3% larger");
    expect(describeSaving(savingPercent(10, undefined))).to.equal("—");
    expect([formatBytes(1023), formatBytes(1536), formatBytes(25 * 1024 * 1024)]).to.deep.equal([
      "1023 B",
      "1.5 KB",
      "25.0 MB",
    ]);
  });

  it("runs at most three uploads at once, the rest in order", async function () {
    const limit = createLimit(3);
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    const releases: Array<() => void> = [];
    const tasks = [0, 1, 2, 3, 4].map((n) =>
      limit(async () => {
        started.push(n);
        running += 1;
        peak = Math.max(peak, running);
        await new Promise<void>((resolve) => releases.push(resolve));
        running -= 1;
        return n;
      }),
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).to.deep.equal([0, 1, 2]);
    while (releases.length) {
      releases.shift()!();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await Promise.all(tasks)).to.deep.equal([0, 1, 2, 3, 4]);
    expect(started).to.deep.equal([0, 1, 2, 3, 4]);
    expect(peak).to.equal(3);
  });

  describe("polling an image", function () {
    const realFetch = globalThis.fetch;
    let answers: Array<() => Response>;
    let asked: string[];
    beforeEach(function () {
      asked = [];
      globalThis.fetch = (async (input: string | URL | Request) => {
        asked.push(String(input));
        // Each answer once, in order; the last one repeats.
        const next = answers.length > 1 ? answers.shift()! : answers[0]!;
        return next();
      }) as typeof fetch;
    });
    afterEach(function () {
      globalThis.fetch = realFetch;
    });
    const record = (status: string) => () => Response.json({ id: "a", status, variants: [] });
    const fast = { firstDelayMs: 1, factor: 2, maxDelayMs: 4, giveUpAfterMs: 60_000 };

    it("reads until the image settles, through a server error on the way", async function () {
      answers = [
        record("pending"),
        () => Response.json({ error: { code: "internal", message: "boom" } }, { status: 500 }),
        record("processing"),
        record("done"),
      ];
      const seen: string[] = [];
      const result = await pollImage("a", (image) => seen.push(image.status), fast);
      expect(result.outcome).to.equal("settled");
      expect(result.image?.status).to.equal("done");
      expect(seen).to.deep.equal(["pending", "processing", "done"]);
      expect(asked).to.deep.equal(["/images/a", "/images/a", "/images/a", "/images/a"]);
    });

    it("gives up after its bound and says so, with the last record read", async function () {
      answers = [record("processing")];
      const result = await pollImage("a", () => undefined, { ...fast, giveUpAfterMs: 40 });
      expect(result).to.deep.equal({ outcome: "gave-up", image: { id: "a", status: "processing", variants: [] } });
      // Backoff 1, 2, 4, 4, ... ms: far fewer reads than a fixed 1 ms interval would make in 40 ms.
      expect(asked.length).to.be.within(3, 15);
    });

    it("stops at once on an unknown id (404)", async function () {
      answers = [() => Response.json({ error: { code: "not_found", message: "No image a" } }, { status: 404 })];
      const failure = await pollImage("a", () => undefined, fast).then(
        () => undefined,
        (error: Error & { status: number }) => error,
      );
      expect(failure?.status).to.equal(404);
      expect(failure?.message).to.equal("No image a");
      expect(asked).to.have.length(1);
    });
  });
});
