import { fileURLToPath } from "node:url";
import { ComponentProvider, type ComponentProviderOptions } from "@pulumi/pulumi/provider/experimental/index.js";
import { PROJECT_NAME } from "../handlers/lib/config/settings.js";
import { ImagePipeline } from "./image-pipeline.js";

/**
 * ImagePipeline as a component provider, for every Pulumi language (PulumiPlugin.yaml, provider.ts): the package
 * `image-pipeline` (the type token's first part), its root holding package.json, tsconfig.json and the sources the
 * SDK's schema inference reads from the package's "." export (components/index.ts).
 */
export const PROVIDER_OPTIONS: ComponentProviderOptions = {
  components: [ImagePipeline],
  name: PROJECT_NAME,
  dirname: fileURLToPath(new URL("../", import.meta.url)),
};

/** The provider itself, for tests that call it in process. */
export function imagePipelineProvider(): ComponentProvider {
  return new ComponentProvider(PROVIDER_OPTIONS);
}
