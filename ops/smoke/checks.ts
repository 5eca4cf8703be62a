import { readFile } from "node:fs/promises";
import sharp from "sharp";

/**
 * The smoke test's steps against a running pipeline, through HTTP only (the API, then the presigned URLs it hands
 * out), as a browser would. Each step either passes or throws a SmokeFailure naming itself; nothing is retried
 * but the polling, which stops at the run's deadline.
 */

export class SmokeFailure extends Error {
  override name = "SmokeFailure";
  constructor(
    readonly step: string,
    message: string,
  ) {
    super(message);
  }
}

export interface SmokeTarget {
  /** The API's base URL (the stack's `apiUrl`). */
  url: string;
  /** Token mode: the bearer token, whose images are deleted at the end. */
  token?: string;
  /** When the whole run must be over (ms since the epoch). */
  deadline: number;
  /** A line per step passed (or skipped). */
  say(line: string): void;
  /** How often an image's status is read while it is processed. Default 500 ms. */
  pollMs?: number;
}

interface PublicConfig {
  maxUploadBytes: number;
  acceptedTypes: string[];
  variants: Array<{ name: string; width: number; height?: number; format: string }>;
  auth?: { issuer: string; audience: string };
}

interface ImageView {
  id: string;
  status: "pending" | "processing" | "done" | "failed";
  variants?: Array<{ name: string; width: number; height: number; format: string; bytes: number; url: string }>;
  error?: { code: string; message: string };
}

/** What sharp's metadata calls each output format (AVIF is an HEIF container to libvips). */
const SHARP_FORMAT: Record<string, string> = { jpeg: "jpeg", png: "png", webp: "webp", avif: "heif" };

const HEIC_FIXTURE = new URL("./smoke.heic", import.meta.url);

export async function runSmoke(target: SmokeTarget): Promise<void> {
  const base = target.url.replace(/\/+$/, "");
  const auth: Record<string, string> = target.token ? { authorization: `Bearer ${target.token}` } : {};
  const step = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    try {
      const result = await work();
      target.say(`ok   ${name} (${Date.now() - started} ms)`);
      return result;
    } catch (error) {
      if (error instanceof SmokeFailure) throw error;
      throw new SmokeFailure(name, (error as Error).message);
    }
  };
  const api = async (name: string, path: string, init: RequestInit = {}): Promise<Response> => {
    try {
      return await fetch(`${base}${path}`, {
        ...init,
        headers: { ...auth, ...(init.headers as Record<string, string>) },
        signal: AbortSignal.timeout(remaining(target, name)),
      });
    } catch (error) {
      throw new SmokeFailure(name, `${init.method ?? "GET"} ${base}${path} failed: ${(error as Error).message}`);
    }
  };

  const config = await step("GET /config", async () => {
    const response = await api("GET /config", "/config");
    if (response.status !== 200) throw new Error(`answered ${response.status}: ${await response.text()}`);
    const body = (await response.json()) as PublicConfig;
    if (!Array.isArray(body.variants) || body.variants.length === 0)
      throw new Error(`no variants in ${JSON.stringify(body)}`);
    if (body.auth && !target.token)
      throw new Error(`the stack is in token mode (issuer ${body.auth.issuer}): pass --token`);
    return body;
  });

  const jpeg = await sharp({ create: { width: 640, height: 427, channels: 3, background: { r: 40, g: 120, b: 200 } } })
    .composite([
      { input: Buffer.from('<svg width="640" height="427"><circle cx="320" cy="213" r="150" fill="#f5a623"/></svg>') },
    ])
    .jpeg({ quality: 85 })
    .toBuffer();
  const heic = await readFile(HEIC_FIXTURE);

  const upload = async (
    label: string,
    file: { body: Buffer; filename: string; contentType: string },
  ): Promise<string> => {
    const grant = await step(`POST /uploads (${label})`, async () => {
      const response = await api(`POST /uploads (${label})`, "/uploads", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ filename: file.filename, contentType: file.contentType, size: file.body.length }),
      });
      if (response.status !== 201) throw new Error(`answered ${response.status}: ${await response.text()}`);
      return (await response.json()) as { id: string; upload: { url: string; fields: Record<string, string> } };
    });
    await step(`presigned upload (${label})`, async () => {
      const form = new FormData();
      for (const [name, value] of Object.entries(grant.upload.fields)) form.append(name, value);
      form.append("file", new Blob([new Uint8Array(file.body)], { type: file.contentType }), file.filename);
      const response = await fetch(grant.upload.url, {
        method: "POST",
        body: form,
        signal: AbortSignal.timeout(remaining(target, "upload")),
      });
      if (response.status < 200 || response.status > 299)
        throw new Error(`S3 answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
    });
    return grant.id;
  };

  const settle = (label: string, id: string): Promise<ImageView> =>
    step(`processing (${label})`, async () => {
      for (;;) {
        const response = await api(`processing (${label})`, `/images/${encodeURIComponent(id)}`);
        if (response.status !== 200)
          throw new Error(`GET /images/${id} answered ${response.status}: ${await response.text()}`);
        const view = (await response.json()) as ImageView;
        if (view.status === "done" || view.status === "failed") return view;
        // Stop with a second to spare, so the last word is the image's status rather than a request cut short.
        if (Date.now() + (target.pollMs ?? 500) + 1000 >= target.deadline) {
          throw new Error(
            `image ${id} still ${view.status} at the deadline: is the processor running? (its logs, the jobs queue and the DLQ tell)`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, target.pollMs ?? 500));
      }
    });

  const checkVariants = (label: string, view: ImageView) =>
    step(`variants (${label})`, async () => {
      if (view.status !== "done")
        throw new Error(`image ${view.id} ended ${view.status}: ${JSON.stringify(view.error)}`);
      const byName = new Map((view.variants ?? []).map((v) => [v.name, v]));
      for (const declared of config.variants) {
        const variant = byName.get(declared.name);
        if (!variant) throw new Error(`no ${declared.name} variant in ${JSON.stringify(view.variants)}`);
        const response = await fetch(variant.url, { signal: AbortSignal.timeout(remaining(target, "variants")) });
        if (response.status !== 200)
          throw new Error(`${declared.name}: GET ${variant.url} answered ${response.status}`);
        const type = response.headers.get("content-type");
        const bytes = Buffer.from(await response.arrayBuffer());
        let meta;
        try {
          meta = await sharp(bytes).metadata();
        } catch (error) {
          throw new Error(
            `${declared.name}: the ${bytes.length} bytes served do not decode (${(error as Error).message})`,
          );
        }
        const found = { width: meta.width, height: meta.height, format: meta.format, type, bytes: bytes.length };
        const wanted = {
          width: variant.width,
          height: variant.height,
          format: SHARP_FORMAT[declared.format],
          type: `image/${declared.format}`,
          bytes: variant.bytes,
        };
        if (JSON.stringify(found) !== JSON.stringify(wanted))
          throw new Error(`${declared.name}: served ${JSON.stringify(found)}, declared ${JSON.stringify(wanted)}`);
        if (variant.width > declared.width || (declared.height !== undefined && variant.height > declared.height)) {
          throw new Error(
            `${declared.name}: ${variant.width}x${variant.height} is larger than the setting's ${declared.width}x${declared.height ?? "any"}`,
          );
        }
      }
    });

  const created: string[] = [];
  const photo = await upload("JPEG", { body: jpeg, filename: "smoke-test.jpg", contentType: "image/jpeg" });
  created.push(photo);
  await checkVariants("JPEG", await settle("JPEG", photo));

  const heicId = await upload("HEIC", { body: heic, filename: "smoke-test.heic", contentType: "image/heic" });
  created.push(heicId);
  await checkVariants("HEIC", await settle("HEIC", heicId));

  // Not an image, though it says it is: the processor reads the bytes, so it must end failed, for good.
  const bogus = await upload("not an image", {
    body: Buffer.from("smoke test: this is text, not a JPEG\n".repeat(40)),
    filename: "smoke-test-bogus.jpg",
    contentType: "image/jpeg",
  });
  created.push(bogus);
  const refused = await settle("not an image", bogus);
  await step("refused (not an image)", async () => {
    if (refused.status !== "failed" || !refused.error?.code)
      throw new Error(`a text file ended ${refused.status} (${JSON.stringify(refused.error)}), not refused`);
  });

  if (!target.token) {
    target.say(`skip delete: open mode has no DELETE; the ${created.length} test images stay (${created.join(", ")})`);
    return;
  }
  await step("DELETE /images/{id}", async () => {
    for (const id of created) {
      const response = await api("DELETE /images/{id}", `/images/${encodeURIComponent(id)}`, { method: "DELETE" });
      if (response.status !== 204)
        throw new Error(`DELETE /images/${id} answered ${response.status}: ${await response.text()}`);
      const gone = await api("DELETE /images/{id}", `/images/${encodeURIComponent(id)}`);
      if (gone.status !== 404) throw new Error(`GET /images/${id} after its DELETE answered ${gone.status}, not 404`);
    }
  });
}

function remaining(target: SmokeTarget, step: string): number {
  const left = target.deadline - Date.now();
  if (left <= 0) throw new SmokeFailure(step, "the run's time limit passed (--timeout)");
  return left;
}
