/** The pipeline's HTTP API (same origin as the page) and the presigned S3 form upload. */

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

/** Token mode: sent as `Authorization: Bearer` on every API call. */
let bearer;

export function useToken(token) {
  bearer = token;
}

async function requestJson(path, init = {}) {
  let response;
  const auth = bearer ? { authorization: `Bearer ${bearer}` } : {};
  try {
    response = await fetch(path, { cache: "no-store", ...init, headers: { accept: "application/json", ...auth, ...init.headers } });
  } catch {
    throw new ApiError(0, "network", "The pipeline's API could not be reached. Check your connection and try again.");
  }
  const body = response.status === 204 ? undefined : await response.json().catch(() => undefined);
  if (!response.ok) {
    const error = body?.error;
    throw new ApiError(response.status, error?.code ?? "http_" + response.status, error?.message ?? `The API answered ${response.status}.`);
  }
  return body;
}

/** @returns {Promise<{maxUploadBytes: number, acceptedTypes: string[], variants: object[]}>} */
export function getConfig() {
  return requestJson("/config");
}

/**
 * The body's SHA-256 in hex, for `x-amz-content-sha256`. Behind the CDN, CloudFront signs each request to the API
 * with it (origin access control) and Lambda refuses a POST without it; elsewhere it is harmless. Web Crypto needs
 * a secure context (HTTPS, or 127.0.0.1/localhost): without one there is nothing to send.
 */
export async function contentSha256(body) {
  if (!globalThis.crypto?.subtle) return undefined;
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(body));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** @returns {Promise<{id: string, upload: {url: string, fields: Record<string, string>}, expiresAt: string}>} */
export async function createUpload({ filename, contentType, size }) {
  const body = JSON.stringify({ filename, contentType, size });
  const hash = await contentSha256(body);
  return requestJson("/uploads", {
    method: "POST",
    headers: { "content-type": "application/json", ...(hash ? { "x-amz-content-sha256": hash } : {}) },
    body,
  });
}

export function getImage(id) {
  return requestJson(`/images/${encodeURIComponent(id)}`);
}

/** Token mode: the signed-in user's images, newest first. @returns {Promise<{images: object[], cursor?: string}>} */
export function listImages(cursor) {
  const query = new URLSearchParams({ limit: "50" });
  if (cursor) query.set("cursor", cursor);
  return requestJson(`/images?${query}`);
}

/** Token mode: deletes the image, its sizes and its original. */
export function deleteImage(id) {
  return requestJson(`/images/${encodeURIComponent(id)}`, { method: "DELETE" });
}

/**
 * Sends the file as a multipart form POST to the presigned URL: every policy field first, the file last as
 * "file" (S3 ignores fields after the file). XMLHttpRequest, because fetch reports no upload progress.
 */
export function uploadForm(upload, file, onProgress) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
    form.append("file", file);

    const xhr = new XMLHttpRequest();
    xhr.open("POST", upload.url);
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve();
      } else {
        reject(new ApiError(xhr.status, s3ErrorField(xhr.responseText, "Code") ?? "upload_failed", uploadFailureMessage(xhr)));
      }
    });
    xhr.addEventListener("error", () => reject(new ApiError(0, "network", "The upload was interrupted by a network error.")));
    xhr.addEventListener("timeout", () => reject(new ApiError(0, "timeout", "The upload timed out.")));
    xhr.send(form);
  });
}

function s3ErrorField(xml, field) {
  const match = new RegExp(`<${field}>([^<]*)</${field}>`).exec(xml ?? "");
  return match?.[1];
}

function uploadFailureMessage(xhr) {
  const message = s3ErrorField(xhr.responseText, "Message");
  return message ? `Storage refused the upload: ${message}` : `Storage refused the upload (HTTP ${xhr.status}).`;
}
