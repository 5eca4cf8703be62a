/**
 * The component package's provider (PulumiPlugin.yaml, loaded by plugin.mjs): hosts ImagePipeline with the SDK's
 * component provider host, so that a Python, Go, .NET, Java or YAML program can `pulumi package add` this package
 * and use it. The schema is inferred from ImagePipelineArgs. The stack program is index.ts (Pulumi.yaml `main`),
 * and TypeScript programs import components/index.ts (package.json's "." export).
 */
import { componentProviderHost } from "@pulumi/pulumi/provider/experimental/index.js";
import { PROVIDER_OPTIONS } from "./components/provider.js";

componentProviderHost(PROVIDER_OPTIONS).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
