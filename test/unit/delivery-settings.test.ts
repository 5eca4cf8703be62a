import { expect } from "chai";
import { errorOf } from "../support/settings-errors.js";
import { parseSettings } from "../../handlers/lib/config/settings.js";

describe("stack settings: delivery, priceClass, rateLimitPer5Minutes", () => {
  it("defaults to presigned delivery, PriceClass_100 and no rate limit", () => {
    const settings = parseSettings({});
    expect([settings.delivery, settings.priceClass, "rateLimitPer5Minutes" in settings]).to.deep.equal([
      "presigned",
      "PriceClass_100",
      false,
    ]);
  });

  it("takes cdn with a price class and a rate limit, and the result parses again to itself (as handlers receive it)", () => {
    const settings = parseSettings({ delivery: "cdn", priceClass: "PriceClass_All", rateLimitPer5Minutes: 1000 });
    expect([settings.delivery, settings.priceClass, settings.rateLimitPer5Minutes]).to.deep.equal([
      "cdn",
      "PriceClass_All",
      1000,
    ]);
    expect(parseSettings(JSON.parse(JSON.stringify(settings)))).to.deep.equal(settings);
    expect(parseSettings(JSON.parse(JSON.stringify(parseSettings({}))))).to.deep.equal(parseSettings({}));
  });

  it("names the key, what was expected and what arrived", () => {
    expect(errorOf(() => parseSettings({ delivery: "cloudfront" })).message).to.equal(
      'Expected one of presigned, cdn for delivery but received "cloudfront" of type string',
    );
    expect(errorOf(() => parseSettings({ delivery: "cdn", priceClass: "PriceClass_50" })).message).to.equal(
      'Expected one of PriceClass_100, PriceClass_200, PriceClass_All for priceClass but received "PriceClass_50" of type string',
    );
    expect(errorOf(() => parseSettings({ delivery: "cdn", rateLimitPer5Minutes: 5 })).message).to.equal(
      "Expected integer between 10 and 2000000000 for rateLimitPer5Minutes but received 5 of type number",
    );
  });

  it("refuses a rate limit without a distribution to enforce it", () => {
    const error = errorOf(() => parseSettings({ rateLimitPer5Minutes: 500 }));
    expect([error.key, error.message]).to.deep.equal([
      "rateLimitPer5Minutes",
      "Expected no value unless delivery is cdn (delivery is presigned) for rateLimitPer5Minutes but received 500 of type number",
    ]);
  });

  it("takes a customDomain with a us-east-1 ACM certificate, with cdn only", () => {
    const certificateArn = "arn:aws:acm:us-east-1:123456789012:certificate/0d3e1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b";
    expect(
      parseSettings({ delivery: "cdn", customDomain: { name: "images.example.com", certificateArn } }).customDomain,
    ).to.deep.equal({ name: "images.example.com", certificateArn });
    expect(errorOf(() => parseSettings({ customDomain: { name: "images.example.com", certificateArn } })).key).to.equal(
      "customDomain",
    );
    const euCertificate = certificateArn.replace("us-east-1", "eu-west-1");
    // The refusal repeats the value cut to 80 characters (the echo rule, handlers/lib/config/validation.ts); the ARN has 83.
    expect(euCertificate).to.have.length(83);
    expect(
      errorOf(() =>
        parseSettings({ delivery: "cdn", customDomain: { name: "images.example.com", certificateArn: euCertificate } }),
      ).message,
    ).to.equal(
      `Expected ACM certificate ARN in us-east-1 (CloudFront takes certificates from there only) for customDomain.certificateArn but received "${euCertificate.slice(0, 80)}..." of type string`,
    );
    expect(
      errorOf(() =>
        parseSettings({ delivery: "cdn", customDomain: { name: "https://images.example.com", certificateArn } }),
      ).key,
    ).to.equal("customDomain.name");
    expect(
      errorOf(() =>
        parseSettings({ delivery: "cdn", customDomain: { name: "images.example.com", certificateArn, zone: "x" } }),
      ).key,
    ).to.equal("customDomain.zone");
  });
});
