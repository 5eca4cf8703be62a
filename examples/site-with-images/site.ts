/**
 * An existing program (a static site with its own bucket) that adds the image pipeline as one more component.
 * The site's pages upload with `image-pipeline/client`, pointed at `imagesApiUrl`.
 */
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { ImagePipeline, type LambdaCode } from "image-pipeline";

export interface SiteArgs {
  /** Where the site is served, e.g. `https://www.example.com`: the only origin allowed to upload. */
  origin: string;
  /** The pipeline's Lambda packages; absent, ImagePipeline builds them from its own sources (tests pass stand-ins). */
  code?: LambdaCode;
}

export interface Site {
  siteBucket: pulumi.Output<string>;
  imagesApiUrl: pulumi.Output<string>;
  images: ImagePipeline;
}

export function siteWithImages({ origin, code }: SiteArgs): Site {
  // The program's own resources, as they were before the pipeline came along.
  const site = new aws.s3.Bucket("site", { forceDestroy: true });
  new aws.s3.BucketWebsiteConfiguration("site-website", { bucket: site.id, indexDocument: { suffix: "index.html" } });

  // The pipeline: the stack file's settings as plain arguments, any subset; the rest take their defaults. Its
  // resources are named after "images", and use the program's providers (the default one here).
  const images = new ImagePipeline("images", {
    allowedOrigins: [origin],
    maxUploadBytes: 10 * 1024 * 1024,
    variants: [
      { name: "card", width: 600, height: 400, fit: "cover" },
      { name: "full", width: 1600 },
    ],
    ...(code ? { code } : {}),
  });

  return { siteBucket: site.bucket, imagesApiUrl: images.apiUrl, images };
}
