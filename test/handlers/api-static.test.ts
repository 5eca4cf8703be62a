import { expect } from "chai";
import { S3Client } from "@aws-sdk/client-s3";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ApiHandler } from "../../handlers/api/create-api.js";
import { createApi } from "../support/openapi-responses.js";
import { createDocumentClient, createS3Client } from "../../handlers/lib/storage/aws-clients.js";
import { parseSettings } from "../../handlers/lib/config/settings.js";
import { useTestAwsEnvironment } from "../support/stand-ins.js";
import type { ApiResponse } from "../../handlers/api/responses.js";
import { bodyOf, httpEvent } from "./api-events.js";

/** Static routes never touch AWS: the clients point at a closed port. */
function apiServing(webRoot?: string): ApiHandler {
  useTestAwsEnvironment();
  const env = { AWS_ENDPOINT_URL_S3: "http://127.0.0.1:9", AWS_ENDPOINT_URL_DYNAMODB: "http://127.0.0.1:9" };
  return createApi({
    s3: createS3Client(env),
    records: { client: createDocumentClient(env), tableName: "unused" },
    settings: parseSettings({}),
    uploadsBucket: "unused",
    variantsBucket: "unused",
    ...(webRoot ? { webRoot } : {}),
  });
}

function bytesOf(response: ApiResponse): Buffer {
  return Buffer.from(response.body ?? "", response.isBase64Encoded ? "base64" : "utf8");
}

describe("API handler: the page and bootstrap from the same origin", () => {
  let dir: string;
  let api: ApiHandler;
  const png = Buffer.from("89504e470d0a1a0a0000000d49484452", "hex");

  before(async () => {
    // <dir>/web is the web root; <dir>/node_modules/bootstrap/dist is where bootstrap is looked for.
    dir = await mkdtemp(join(tmpdir(), "api-static-"));
    await mkdir(join(dir, "web", "assets"), { recursive: true });
    await mkdir(join(dir, "node_modules", "bootstrap", "dist", "css"), { recursive: true });
    await writeFile(join(dir, "web", "index.html"), "<!doctype html><title>images</title>");
    await writeFile(join(dir, "web", "assets", "app.js"), "console.log('é');");
    await writeFile(join(dir, "web", "assets", "logo.png"), png);
    await writeFile(join(dir, "web", ".env"), "SECRET=1");
    await writeFile(join(dir, "node_modules", "bootstrap", "dist", "css", "bootstrap.min.css"), "body{margin:0}");
    await writeFile(join(dir, "secret.txt"), "not for the web");
    await symlink(join(dir, "secret.txt"), join(dir, "web", "linked.txt"));
    api = apiServing(join(dir, "web"));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  const served: Array<[string, string, string, string | Buffer]> = [
    ["/", "text/html; charset=utf-8", "no-cache", "<!doctype html><title>images</title>"],
    ["/index.html", "text/html; charset=utf-8", "no-cache", "<!doctype html><title>images</title>"],
    ["/assets/app.js", "text/javascript; charset=utf-8", "public, max-age=300", "console.log('é');"],
    ["/assets/logo.png", "image/png", "public, max-age=300", png],
    ["/vendor/bootstrap/css/bootstrap.min.css", "text/css; charset=utf-8", "public, max-age=300", "body{margin:0}"],
  ];
  for (const [path, contentType, cacheControl, content] of served) {
    it(`serves ${path} as ${contentType}`, async () => {
      const response = await api(httpEvent("GET", path));
      expect(response.statusCode).to.equal(200);
      expect(response.headers).to.deep.include({ "content-type": contentType, "cache-control": cacheControl });
      expect(response.isBase64Encoded).to.equal(Buffer.isBuffer(content));
      expect(bytesOf(response).equals(Buffer.from(content))).to.equal(true);
    });
  }

  for (const path of [
    "/missing.html",
    "/assets/",
    "/assets",
    "/../secret.txt",
    "/%2e%2e/secret.txt",
    "/assets/..%2f..%2fsecret.txt",
    "/vendor/bootstrap/..%2f..%2f..%2f..%2fsecret.txt",
    "/assets%5c..%5c..%5csecret.txt",
    "/.env",
    "/%2eenv",
    "/linked.txt",
    "/index.html%00.png",
    "/%E0%A4%A",
  ]) {
    it(`answers 404 not_found for ${path}`, async () => {
      const response = await api(httpEvent("GET", path));
      expect(response.statusCode).to.equal(404);
      expect(bodyOf(response).error.code).to.equal("not_found");
    });
  }

  it("serves files to GET only", async () => {
    const response = await api(httpEvent("POST", "/index.html", { body: "{}" }));
    expect(response.statusCode).to.equal(404);
  });

  it("serves the page under a strict Content-Security-Policy naming the S3 origin the presigned URLs use", async () => {
    const page = await api(httpEvent("GET", "/"));
    expect(page.headers["content-security-policy"]).to.equal(
      "default-src 'none'; script-src 'self'; style-src 'self'; font-src 'self'; " +
        "img-src 'self' data: http://127.0.0.1:9; connect-src 'self' http://127.0.0.1:9; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    const script = await api(httpEvent("GET", "/assets/app.js"));
    expect(script.headers).not.to.have.property("content-security-policy");
  });

  it("answers a logged 500 in JSON when the page's policy cannot be signed, then signs again on the next request", async () => {
    let credentialsAvailable = false;
    const errors: Array<Record<string, unknown>> = [];
    const env = { AWS_ENDPOINT_URL_DYNAMODB: "http://127.0.0.1:9" };
    const api = createApi({
      s3: new S3Client({
        region: "us-east-1",
        endpoint: "http://127.0.0.1:9",
        forcePathStyle: true,
        credentials: async () => {
          if (!credentialsAvailable) throw new Error("no credentials yet");
          return { accessKeyId: "a", secretAccessKey: "b" };
        },
      }),
      records: { client: createDocumentClient(env), tableName: "unused" },
      settings: parseSettings({}),
      uploadsBucket: "unused",
      variantsBucket: "unused",
      webRoot: join(dir, "web"),
      logger: { error: (_message, attributes) => errors.push(attributes) },
    });

    const failed = await api(httpEvent("GET", "/"));
    expect(failed.statusCode).to.equal(500);
    expect(bodyOf(failed)).to.deep.equal({
      error: { code: "internal_error", message: "The request failed; try again" },
    });
    expect(errors).to.have.length(1);
    expect(errors[0]).to.deep.include({ method: "GET", path: "/" });

    credentialsAvailable = true;
    const served = await api(httpEvent("GET", "/"));
    expect(served.statusCode).to.equal(200);
    expect(served.headers["content-security-policy"]).to.include("connect-src 'self' http://127.0.0.1:9");
  });

  it("finds the repository's web/ and bootstrap by default", async () => {
    const response = await apiServing()(httpEvent("GET", "/vendor/bootstrap/css/bootstrap.min.css"));
    expect(response.statusCode).to.equal(200);
    expect(response.headers["content-type"]).to.equal("text/css; charset=utf-8");
    const onDisk = await readFile(new URL("../../node_modules/bootstrap/dist/css/bootstrap.min.css", import.meta.url));
    expect(bytesOf(response).equals(onDisk)).to.equal(true);
  });

  it("serves the client's JavaScript from the repository's client/ under /client/, and not its type declarations", async () => {
    const api = apiServing();
    const script = await api(httpEvent("GET", "/client/index.js"));
    expect(script.statusCode).to.equal(200);
    expect(script.headers["content-type"]).to.equal("text/javascript; charset=utf-8");
    expect(bytesOf(script).equals(await readFile(new URL("../../client/index.js", import.meta.url)))).to.equal(true);
    expect((await api(httpEvent("GET", "/client/index.d.ts"))).statusCode).to.equal(404);
    expect((await api(httpEvent("GET", "/client/..%2fpackage.json"))).statusCode).to.equal(404);
  });
});
