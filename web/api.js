/**
 * The page's calls to the pipeline, through the client (client/index.js, served at /client/): the page and every
 * app speak the protocol through one implementation. This module keeps the small surface the page's modules use.
 */
// "../client/" is /client/ to a browser (nothing lies above the root) and the repository's client/ to Node.
import { createClient, ImagePipelineError } from "../client/index.js";

export { ImagePipelineError as ApiError };

/** Token mode: sent as `Authorization: Bearer` on every API call. */
let bearer;

export function useToken(token) {
  bearer = token;
}

// The page is served by the API itself: its paths are the API's.
const client = createClient({ apiUrl: "/", token: async () => bearer });

/** @returns {Promise<{maxUploadBytes: number, acceptedTypes: string[], variants: object[]}>} */
export function getConfig() {
  return client.getConfig();
}

/** @returns {Promise<{id: string, upload: {url: string, fields: Record<string, string>}, expiresAt: string}>} */
export function createUpload({ filename, contentType, size }) {
  return client.createUpload({ filename, contentType, size });
}

export function getImage(id) {
  return client.get(id);
}

/** Token mode: the signed-in user's images, newest first. @returns {Promise<{images: object[], cursor?: string}>} */
export function listImages(cursor) {
  return client.listPage({ limit: 50, cursor });
}

/** Token mode: deletes the image, its sizes and its original. */
export function deleteImage(id) {
  return client.delete(id);
}

/** Sends the file with a grant from createUpload; `onProgress` gets the fraction of the bytes sent. */
export async function uploadForm(grant, file, onProgress) {
  await client.sendFile(grant, file, { onProgress: ({ loaded, total }) => onProgress(loaded / total) });
  onProgress(1);
}
