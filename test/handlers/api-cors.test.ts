import { expect } from "chai";
import { apiCorsPolicy, corsHeaders, isPreflight } from "../../handlers/lib/contract/api-cors.js";
import { parseSettings } from "../../handlers/lib/config/settings.js";

describe("API CORS policy (the Function URL's, mirrored by the local runtime)", () => {
  const policy = apiCorsPolicy(
    parseSettings({ allowedOrigins: ["https://images.example.com", "http://localhost:5173"] }),
  );

  it("is built from the stack's allowedOrigins", () => {
    expect(policy).to.deep.equal({
      allowOrigins: ["https://images.example.com", "http://localhost:5173"],
      allowMethods: ["GET", "POST"],
      allowHeaders: ["content-type", "x-amz-content-sha256"],
      maxAge: 300,
    });
  });

  it("answers a preflight from an allowed origin with methods, headers and max age", () => {
    const request = {
      method: "OPTIONS",
      headers: { Origin: "http://localhost:5173", "access-control-request-method": "POST" },
    };
    expect(isPreflight(request)).to.equal(true);
    expect(corsHeaders(policy, request)).to.deep.equal({
      "access-control-allow-origin": "http://localhost:5173",
      vary: "Origin",
      "access-control-allow-methods": "GET, POST",
      "access-control-allow-headers": "content-type, x-amz-content-sha256",
      "access-control-max-age": "300",
    });
  });

  it("allows a simple request's origin only", () => {
    expect(corsHeaders(policy, { method: "GET", headers: { origin: "https://images.example.com" } })).to.deep.equal({
      "access-control-allow-origin": "https://images.example.com",
      vary: "Origin",
    });
    expect(corsHeaders(policy, { method: "GET", headers: { origin: "https://evil.example.com" } })).to.deep.equal({});
    expect(corsHeaders(policy, { method: "GET", headers: {} })).to.deep.equal({});
    expect(isPreflight({ method: "OPTIONS", headers: { origin: "https://images.example.com" } })).to.equal(false);
  });
});
