import * as pulumi from "@pulumi/pulumi";
import { siteWithImages } from "./site.js";

const config = new pulumi.Config();
const site = siteWithImages({ origin: config.require("origin") });

export const siteBucket = site.siteBucket;
export const imagesApiUrl = site.imagesApiUrl;
