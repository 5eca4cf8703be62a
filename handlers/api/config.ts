import { ACCEPTED_CONTENT_TYPES } from "../lib/formats.js";
import type { ApiRuntimeSettings, OutputFormat } from "../lib/settings.js";

export interface PublicConfig {
  maxUploadBytes: number;
  acceptedTypes: string[];
  variants: Array<{ name: string; width: number; height?: number; format: OutputFormat }>;
}

/** `GET /config`: what the page needs to refuse a file before uploading it. */
export function publicConfig(settings: ApiRuntimeSettings): PublicConfig {
  return {
    maxUploadBytes: settings.maxUploadBytes,
    acceptedTypes: [...ACCEPTED_CONTENT_TYPES],
    variants: settings.variants.map((v) => (v.height === undefined ? { name: v.name, width: v.width, format: v.format } : { name: v.name, width: v.width, height: v.height, format: v.format })),
  };
}
