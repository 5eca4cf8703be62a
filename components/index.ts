/**
 * What the package offers Pulumi programs (`import { ImagePipeline } from "image-pipeline"`): the whole pipeline
 * as one component, configured with the stack file's settings as plain arguments (image-pipeline-args.ts).
 */
export {
  ImagePipeline,
  type ImagePipelineOptions,
  needsUsEast1Provider,
  pipelineSettings,
} from "./image-pipeline.js";
export type * from "./image-pipeline-args.js";
export { Architecture, Delivery, Fit, OutputFormat, PriceClass } from "./image-pipeline-args.js";
