import { expect } from "chai";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";

/** Every .ts file under a folder, recursively. */
async function sources(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith(".ts")).map((e) => path.join(e.parentPath, e.name));
}

describe("what the infrastructure shares with the handlers", () => {
  it("comes from handlers/lib (the contract, settings, storage), never from a route or processor module", async () => {
    const offending: string[] = [];
    for (const file of await sources("components")) {
      const text = await readFile(file, "utf8");
      for (const [, specifier] of text.matchAll(/from\s+"([^"]+)"/g)) {
        if (/\/handlers\/(api|processor)\//.test(specifier!)) offending.push(`${file}: ${specifier}`);
      }
    }
    expect(offending).to.deep.equal([]);
  });
});
