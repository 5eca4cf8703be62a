/**
 * image-pipeline's client: one API in browsers and in Node 22, no dependencies. Plain ESM JavaScript (types in
 * index.d.ts) so that the page (web/), which is served without a build step, runs this very file.
 *
 * The protocol it speaks (docs/api.md, GET /openapi.json): POST /uploads for a presigned POST, the multipart form
 * POST to storage with the file last, then GET /images/{id} until the image is done or failed.
 */

export class ImagePipelineError extends Error {
  /**
   * @param {number} status the HTTP status (0: no answer: network, aborted, timed out, refused before sending)
   * @param {string} code a stable snake_case code: the API's own, or the client's (network, aborted, timeout)
   * @param {string} message for people
   */
  constructor(status, code, message) {
    super(message);
    this.name = "ImagePipelineError";
    this.status = status;
    this.code = code;
  }
}

export const WAIT_DEFAULTS = Object.freeze({
  firstDelayMs: 500,
  factor: 1.5,
  maxDelayMs: 5000,
  timeoutMs: 3 * 60 * 1000,
});
const UPLOAD_CHUNK_BYTES = 64 * 1024;
const SETTLED = new Set(["done", "failed"]);

/**
 * @param {import("./index.js").ClientOptions} options
 * @returns {import("./index.js").ImagePipelineClient}
 */
export function createClient(options) {
  const { apiUrl, token } = options ?? {};
  if (typeof apiUrl !== "string" || apiUrl === "") {
    throw new TypeError(
      'createClient: expected apiUrl, the pipeline\'s URL (its apiUrl output), or "/" in a page the API serves',
    );
  }
  const base = apiUrl.endsWith("/") ? apiUrl : `${apiUrl}/`;
  const fetchImpl = options.fetch ?? ((...args) => globalThis.fetch(...args));
  // Browsers report upload progress through XMLHttpRequest only (and stream a request body over HTTP/2 only, which
  // S3's form POST is not); Node, which has no XMLHttpRequest, streams the body through fetch.
  const useXhr = typeof globalThis.XMLHttpRequest === "function";
  let config;

  async function authorization() {
    const value = typeof token === "function" ? await token() : token;
    return value ? { authorization: `Bearer ${value}` } : {};
  }

  async function request(method, path, { body, signal, query } = {}) {
    throwIfAborted(signal);
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(query ?? {})) if (value !== undefined) search.set(name, String(value));
    // A string, so that an apiUrl of "/" (a page served by the API itself) stays relative to the page.
    const url = `${base}${path.replace(/^\//, "")}${search.size > 0 ? `?${search}` : ""}`;
    const headers = { accept: "application/json", ...(await authorization()) };
    let payload;
    if (body !== undefined) {
      payload = new TextEncoder().encode(JSON.stringify(body));
      headers["content-type"] = "application/json";
      // The CDN's origin access control signs the request for the function URL and needs the body's hash.
      const hash = await sha256Hex(payload);
      if (hash) headers["x-amz-content-sha256"] = hash;
    }
    let response;
    try {
      response = await fetchImpl(url, { method, headers, body: payload, signal, cache: "no-store" });
    } catch (error) {
      throw transportError(error, signal, "The pipeline's API could not be reached.");
    }
    const text = response.status === 204 ? "" : await response.text().catch(() => "");
    let parsed;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!response.ok) {
      const error = parsed?.error;
      if (error && typeof error === "object")
        throw new ImagePipelineError(response.status, String(error.code), String(error.message));
      throw new ImagePipelineError(
        response.status,
        `http_${response.status}`,
        `The pipeline's API answered ${response.status}.`,
      );
    }
    return parsed;
  }

  async function getConfig() {
    config ??= request("GET", "/config").catch((error) => {
      config = undefined; // try again next time
      throw error;
    });
    return config;
  }

  async function createUpload({ filename, contentType, size, signal }) {
    return request("POST", "/uploads", { body: { filename, contentType, size }, signal });
  }

  /** Sends `data` with a grant from createUpload (every field first, the file last, as S3 requires). */
  async function sendFile(grant, data, { onProgress, signal } = {}) {
    throwIfAborted(signal);
    const upload = grant.upload ?? grant;
    const blob = toBlob(data);
    const contentType = upload.fields["Content-Type"] ?? blob.type;
    if (useXhr) return sendWithXhr(upload, blob, contentType, onProgress, signal);
    return sendStreamed(fetchImpl, upload, blob, contentType, onProgress, signal);
  }

  async function upload(data, { filename, contentType, onProgress, signal } = {}) {
    throwIfAborted(signal);
    const blob = toBlob(data);
    const name = filename ?? (typeof data?.name === "string" && data.name !== "" ? data.name : "upload");
    const type = contentType ?? (blob.type || (await sniffContentType(blob)));
    const limits = await getConfig();
    refuseLocally(limits, { size: blob.size, contentType: type, tokenGiven: token !== undefined });
    const grant = await createUpload({ filename: name, contentType: type, size: blob.size, signal });
    await sendFile(grant, blob, { onProgress, signal });
    return { id: grant.id, expiresAt: grant.expiresAt };
  }

  async function get(id, { signal } = {}) {
    return request("GET", `/images/${encodeURIComponent(id)}`, { signal });
  }

  async function waitUntilProcessed(
    id,
    {
      signal,
      timeoutMs = WAIT_DEFAULTS.timeoutMs,
      onUpdate,
      firstDelayMs = WAIT_DEFAULTS.firstDelayMs,
      maxDelayMs = WAIT_DEFAULTS.maxDelayMs,
    } = {},
  ) {
    const deadline = Date.now() + timeoutMs;
    let delay = firstDelayMs;
    for (;;) {
      try {
        const image = await get(id, { signal });
        onUpdate?.(image);
        if (SETTLED.has(image.status)) return image;
      } catch (error) {
        // A 4xx will not change by asking again (404: unknown id); a network blip or a 5xx may.
        if (
          !(error instanceof ImagePipelineError) ||
          (error.status >= 400 && error.status < 500) ||
          error.code === "aborted"
        )
          throw error;
      }
      if (Date.now() + delay > deadline) {
        throw new ImagePipelineError(
          0,
          "timeout",
          `The image ${id} was not processed within ${Math.round(timeoutMs / 1000)} s.`,
        );
      }
      await sleep(delay, signal);
      delay = Math.min(delay * WAIT_DEFAULTS.factor, maxDelayMs);
    }
  }

  async function listPage({ limit, cursor, signal } = {}) {
    return request("GET", "/images", { query: { limit, cursor }, signal });
  }

  async function* list({ limit, signal } = {}) {
    let cursor;
    do {
      const page = await listPage({ limit, cursor, signal });
      yield* page.images;
      cursor = page.cursor;
    } while (cursor);
  }

  async function deleteImage(id, { signal } = {}) {
    await request("DELETE", `/images/${encodeURIComponent(id)}`, { signal });
  }

  return { upload, waitUntilProcessed, get, list, listPage, delete: deleteImage, getConfig, createUpload, sendFile };
}

/** What the API would refuse, refused before a byte is sent (same status, code and words as the API's). */
function refuseLocally(config, { size, contentType, tokenGiven }) {
  if (config.auth && !tokenGiven) {
    throw new ImagePipelineError(
      401,
      "unauthorized",
      "This pipeline takes uploads from signed-in users only: pass a token to createClient",
    );
  }
  if (size < 1) throw new ImagePipelineError(400, "invalid_field", "Expected positive integer for size but received 0");
  if (size > config.maxUploadBytes)
    throw new ImagePipelineError(
      413,
      "file_too_large",
      `The file is ${size} bytes; the limit is ${config.maxUploadBytes} bytes`,
    );
  if (!contentType || !config.acceptedTypes.includes(contentType)) {
    const what = contentType
      ? `Content type ${contentType.slice(0, 80)} is not accepted`
      : "The file's type is not known (pass contentType)";
    throw new ImagePipelineError(
      415,
      "unsupported_media_type",
      `${what}; accepted types: ${config.acceptedTypes.join(", ")}`,
    );
  }
}

function toBlob(data) {
  if (typeof Blob !== "undefined" && data instanceof Blob) return data;
  if (data instanceof ArrayBuffer) return new Blob([data]);
  if (ArrayBuffer.isView(data)) return new Blob([new Uint8Array(data.buffer, data.byteOffset, data.byteLength)]);
  throw new TypeError("upload: expected a File, a Blob, an ArrayBuffer or a Uint8Array");
}

/** The type from the first bytes, for data that carries none (bytes, or a Blob without a type). */
async function sniffContentType(blob) {
  const b = new Uint8Array(await blob.slice(0, 16).arrayBuffer());
  const ascii = (from, to) => String.fromCharCode(...b.slice(from, to));
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return "image/jpeg";
  if (ascii(1, 4) === "PNG") return "image/png";
  if (ascii(0, 3) === "GIF") return "image/gif";
  if (ascii(0, 4) === "RIFF" && ascii(8, 12) === "WEBP") return "image/webp";
  if (ascii(0, 4) === "II*\0" || ascii(0, 4) === "MM\0*") return "image/tiff";
  if (ascii(4, 8) === "ftyp") {
    const brand = ascii(8, 12);
    if (brand === "avif" || brand === "avis") return "image/avif";
    if (["heic", "heix", "hevc", "hevx"].includes(brand)) return "image/heic";
    if (brand === "mif1" || brand === "msf1") return "image/heif";
  }
  return "";
}

/** Web Crypto exists in secure contexts only (HTTPS, or localhost): elsewhere there is no hash to send. */
async function sha256Hex(bytes) {
  if (!globalThis.crypto?.subtle) return undefined;
  const digest = await globalThis.crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((x) => x.toString(16).padStart(2, "0")).join("");
}

function throwIfAborted(signal) {
  if (signal?.aborted) throw abortedError();
}

function abortedError() {
  return new ImagePipelineError(0, "aborted", "The request was cancelled.");
}

function transportError(error, signal, what) {
  if (signal?.aborted || error?.name === "AbortError") return abortedError();
  if (error instanceof ImagePipelineError) return error;
  return new ImagePipelineError(0, "network", `${what} Check your connection and try again.`);
}

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortedError());
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortedError());
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function xmlField(xml, field) {
  return new RegExp(`<${field}>([^<]*)</${field}>`).exec(xml ?? "")?.[1];
}

function storageError(status, xml) {
  const message = xmlField(xml, "Message");
  return new ImagePipelineError(
    status,
    xmlField(xml, "Code") ?? "upload_failed",
    message ? `Storage refused the upload: ${message}` : `Storage refused the upload (HTTP ${status}).`,
  );
}

/** Browsers: XMLHttpRequest, whose upload events count the bytes really sent. */
function sendWithXhr(upload, blob, contentType, onProgress, signal) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
    form.append("file", contentType && blob.type !== contentType ? new Blob([blob], { type: contentType }) : blob);
    const xhr = new XMLHttpRequest();
    const onAbort = () => xhr.abort();
    const settle = (error) => {
      signal?.removeEventListener("abort", onAbort);
      if (error) reject(error);
      else resolve();
    };
    xhr.open("POST", upload.url);
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress?.({ loaded: event.loaded, total: event.total });
    });
    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 300) settle();
      else settle(storageError(xhr.status, xhr.responseText));
    });
    xhr.addEventListener("error", () =>
      settle(new ImagePipelineError(0, "network", "The upload was interrupted by a network error.")),
    );
    xhr.addEventListener("timeout", () => settle(new ImagePipelineError(0, "timeout", "The upload timed out.")));
    xhr.addEventListener("abort", () => settle(abortedError()));
    signal?.addEventListener("abort", onAbort, { once: true });
    xhr.send(form);
  });
}

/**
 * Node: the multipart body built here and streamed through fetch with its length declared, counting each chunk
 * as the connection takes it (the stream is pulled only as fast as the socket drains).
 */
async function sendStreamed(fetchImpl, upload, blob, contentType, onProgress, signal) {
  const boundary = `----image-pipeline-${[...globalThis.crypto.getRandomValues(new Uint8Array(12))].map((x) => x.toString(16).padStart(2, "0")).join("")}`;
  const encoder = new TextEncoder();
  const quote = (value) => value.replace(/[\r\n"]/g, (c) => encodeURIComponent(c));
  let head = "";
  for (const [name, value] of Object.entries(upload.fields)) {
    head += `--${boundary}\r\nContent-Disposition: form-data; name="${quote(name)}"\r\n\r\n${value}\r\n`;
  }
  head += `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="upload"\r\nContent-Type: ${contentType}\r\n\r\n`;
  const preamble = encoder.encode(head);
  const epilogue = encoder.encode(`\r\n--${boundary}--\r\n`);
  const total = preamble.byteLength + blob.size + epilogue.byteLength;
  let loaded = 0;
  let offset = 0;
  let stage = 0; // 0 preamble, 1 file, 2 epilogue, 3 done
  const body = new ReadableStream(
    {
      async pull(controller) {
        let chunk;
        if (stage === 0) {
          chunk = preamble;
          stage = 1;
        } else if (stage === 1) {
          chunk = new Uint8Array(await blob.slice(offset, offset + UPLOAD_CHUNK_BYTES).arrayBuffer());
          offset += chunk.byteLength;
          if (offset >= blob.size) stage = 2;
        } else if (stage === 2) {
          chunk = epilogue;
          stage = 3;
        } else {
          controller.close();
          return;
        }
        controller.enqueue(chunk);
        loaded += chunk.byteLength;
        onProgress?.({ loaded, total });
      },
    },
    { highWaterMark: 0 },
  );
  let response;
  try {
    response = await fetchImpl(upload.url, {
      method: "POST",
      headers: { "content-type": `multipart/form-data; boundary=${boundary}`, "content-length": String(total) },
      body,
      duplex: "half",
      signal,
    });
  } catch (error) {
    throw transportError(error, signal, "The upload was interrupted by a network error.");
  }
  const text = await response.text().catch(() => "");
  if (!response.ok) throw storageError(response.status, text);
}
