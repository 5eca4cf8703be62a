import { fileURLToPath } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import type { Architecture } from "../../handlers/lib/config/settings.js";
import type { LambdaCode } from "../image-pipeline-args.js";
import { buildLambdaArtifacts } from "./lambda-artifacts.js";

const PROJECT_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/**
 * The Lambda packages for `architecture`, built (or found in the .build/ cache) while the program runs, so that
 * `pulumi up` alone deploys current code.
 */
export function lambdaCode(architecture: Architecture, projectRoot: string = PROJECT_ROOT): LambdaCode {
  const built = buildLambdaArtifacts({ architecture, projectRoot, log: (line) => pulumi.log.info(line) });
  return {
    api: built.then((artifacts) => new pulumi.asset.FileArchive(artifacts.api)),
    processor: built.then((artifacts) => new pulumi.asset.FileArchive(artifacts.processor)),
  };
}
