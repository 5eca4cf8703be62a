import { ACCEPTED_CONTENT_TYPES } from "../lib/image/formats.js";
import type { ApiRuntimeSettings, OutputFormat } from "../lib/config/settings.js";

export interface PublicConfig {
  maxUploadBytes: number;
  acceptedTypes: string[];
  variants: Array<{ name: string; width: number; height?: number; format: OutputFormat }>;
  /** Token mode: who issues the tokens the API accepts. */
  auth?: { issuer: string; audience: string };
  /** How long an image may still be finished after its upload (retries included): the page polls that long. */
  processing?: { retryWindowSeconds: number };
}

/** `GET /config`: what the page needs to refuse a file before uploading it. */
export function publicConfig(settings: ApiRuntimeSettings): PublicConfig {
  const config: PublicConfig = {
    maxUploadBytes: settings.maxUploadBytes,
    acceptedTypes: [...ACCEPTED_CONTENT_TYPES],
    variants: settings.variants.map((v) =>
      v.height === undefined
        ? { name: v.name, width: v.width, format: v.format }
        : { name: v.name, width: v.width, height: v.height, format: v.format },
    ),
  };
  if (settings.auth) config.auth = { issuer: settings.auth.issuer, audience: settings.auth.audience };
  if (settings.processingWindowSeconds !== undefined)
    config.processing = { retryWindowSeconds: settings.processingWindowSeconds };
  return config;
}
