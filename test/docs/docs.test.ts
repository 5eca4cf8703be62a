import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "chai";
import { DEFAULT_SETTINGS, SETTINGS_KEYS } from "../../handlers/lib/config/settings.js";
import { anchorsOf, relativeLinksOf, tableUnder } from "./markdown.js";

/**
 * The docs against the code they describe: the settings table against the parser's defaults, the npm scripts
 * against the pages that name them, every relative link and anchor against the files and headings it points at.
 * Each check is a function returning what is wrong, so the same function is shown to catch a planted fault.
 */

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const read = (path: string) => readFileSync(join(ROOT, path), "utf8");

/** README.md, CONTRIBUTING.md and every page under docs/, by path from the repository's root. */
function docPages(): Map<string, string> {
  const paths = [
    "README.md",
    "CONTRIBUTING.md",
    ...readdirSync(join(ROOT, "docs"))
      .filter((f) => f.endsWith(".md"))
      .map((f) => `docs/${f}`),
  ];
  return new Map(paths.filter((p) => existsSync(join(ROOT, p))).map((p) => [p, read(p)]));
}

/** Every setting with a default, as a key path (`processor.memoryMb`); arrays are values, objects are walked. */
function flatten(value: object, prefix = ""): Array<[string, unknown]> {
  return Object.entries(value).flatMap(([key, v]): Array<[string, unknown]> => {
    const path = prefix + key;
    return typeof v === "object" && v !== null && !Array.isArray(v) ? flatten(v, `${path}.`) : [[path, v]];
  });
}

/** How the table writes a default: `1536`, `arm64`, `[]`, and a list of objects as `{name: thumb, width: 320}`, ... */
function written(value: unknown): string[] {
  if (Array.isArray(value)) {
    if (value.length === 0) return ["`[]`"];
    if (value.every((v) => typeof v === "object" && v !== null)) {
      return value.map(
        (v) =>
          `\`{${Object.entries(v)
            .map(([k, x]) => `${k}: ${String(x)}`)
            .join(", ")}}\``,
      );
    }
    return [`\`[${value.map(String).join(", ")}]\``];
  }
  return [`\`${String(value)}\``];
}

const keyOf = (cell: string) => cell.replace(/^`|`$/g, "");

/** What the settings table (rows of key, default, meaning) gets wrong about the parser's settings. */
function settingsTableProblems(rows: string[][]): string[] {
  const problems: string[] = [];
  const table = new Map(rows.map((cells) => [keyOf(cells[0] ?? ""), cells[1] ?? ""]));
  for (const [path, value] of flatten(DEFAULT_SETTINGS)) {
    const cell = table.get(path);
    if (cell === undefined) problems.push(`${path}: no row`);
    else
      for (const text of written(value))
        if (!cell.includes(text)) problems.push(`${path}: default ${text} not in "${cell}"`);
  }
  const withDefaults = new Set(flatten(DEFAULT_SETTINGS).map(([path]) => path.split(".")[0]));
  for (const key of SETTINGS_KEYS.filter((k) => !withDefaults.has(k))) {
    const cell = table.get(key);
    if (cell === undefined) problems.push(`${key}: no row`);
    else if (!cell.startsWith("none")) problems.push(`${key}: has no default, but the table says "${cell}"`);
  }
  // A row names a setting with a default, a top-level key, or a part of an optional setting (`events.webhook`).
  const paths = new Set(flatten(DEFAULT_SETTINGS).map(([path]) => path));
  for (const key of table.keys()) {
    const top = key.split(".")[0]!;
    const known =
      paths.has(key) || SETTINGS_KEYS.includes(key) || (SETTINGS_KEYS.includes(top) && !withDefaults.has(top));
    if (!known) problems.push(`${key}: a row for a setting the parser does not know`);
  }
  return problems;
}

/** The npm scripts no page names (`npm start`, `npm test`, `npm run NAME`). */
function unnamedScripts(scripts: string[], pages: Iterable<string>): string[] {
  const text = [...pages].join("\n");
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return scripts.filter((name) => {
    const forms = ["start", "test"].includes(name) ? `npm (?:run )?${escape(name)}` : `npm run (?:-s )?${escape(name)}`;
    return !new RegExp(`${forms}(?![\\w:-])`).test(text);
  });
}

/** Every relative link (and #anchor) in `pages` that points at no file, or at no heading of its file. */
function brokenLinks(pages: Map<string, string>): string[] {
  const problems: string[] = [];
  for (const [page, text] of pages) {
    for (const link of relativeLinksOf(text)) {
      const [path = "", anchor] = link.split("#", 2);
      const target = path === "" ? page : normalize(join(dirname(page), decodeURIComponent(path)));
      if (target.startsWith("..") || !(pages.has(target) || existsSync(join(ROOT, target)))) {
        problems.push(`${page}: ${link} (no file ${target})`);
        continue;
      }
      if (anchor && target.endsWith(".md")) {
        const targetText = pages.get(target) ?? read(target);
        if (!anchorsOf(targetText).has(anchor)) problems.push(`${page}: ${link} (no heading #${anchor} in ${target})`);
      }
    }
  }
  return problems;
}

describe("the docs agree with the code", () => {
  const pages = docPages();
  const deploy = read("docs/deploy.md");

  it("docs/deploy.md's settings table has every setting with the parser's default, and no setting the parser lacks", () => {
    const rows = tableUnder(deploy, "Settings");
    expect(rows.length, "rows of the table under ## Settings").to.be.greaterThan(0);
    expect(settingsTableProblems(rows)).to.deep.equal([]);
  });

  it("notices a setting left out of the table, a default that moved, and a row for a setting that does not exist", () => {
    const rows = tableUnder(deploy, "Settings")
      .filter((cells) => cells[0] !== "`processor.maxConcurrency`" && cells[0] !== "`budget`")
      .map((cells) => (cells[0] === "`maxUploadBytes`" ? [cells[0], "`10485760` (10 MiB)", cells[2]!] : cells))
      .concat([["`processor.turbo`", "`true`", "no such setting"]]);
    expect(settingsTableProblems(rows)).to.deep.equal([
      'maxUploadBytes: default `26214400` not in "`10485760` (10 MiB)"',
      "processor.maxConcurrency: no row",
      "budget: no row",
      "processor.turbo: a row for a setting the parser does not know",
    ]);
  });

  it("every npm script of package.json is named in README.md or docs/", () => {
    const scripts = Object.keys((JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts);
    expect(scripts).to.include.members(["start", "test", "test:one"]);
    const built = [...pages]
      .filter(([path]) => path === "README.md" || path.startsWith("docs/"))
      .map(([, text]) => text);
    expect(unnamedScripts(scripts, built)).to.deep.equal([]);
  });

  it("notices a script no page names, and does not take `npm run test:one` for `npm run test`", () => {
    expect(
      unnamedScripts(["start", "test", "test:one", "smoke"], ["npm start", "npm run test:one -- FILE"]),
    ).to.deep.equal(["test", "smoke"]);
  });

  it("every relative link and #anchor in README.md, CONTRIBUTING.md and docs/ resolves", () => {
    expect(pages.has("docs/design.md"), "docs/design.md exists").to.equal(true);
    expect(brokenLinks(pages)).to.deep.equal([]);
  });

  it("notices a link to a missing page, to a missing heading, and to a missing heading of its own page", () => {
    const planted = new Map([
      [
        "docs/planted.md",
        "# Planted\n\n## Real `heading`: here\n\n[a](missing.md) [b](deploy.md#no-such-heading) [c](#real-heading-here) [d](#gone)\n\n```\n[e](not-a-link.md)\n```\n",
      ],
    ]);
    expect(brokenLinks(planted)).to.deep.equal([
      "docs/planted.md: missing.md (no file docs/missing.md)",
      "docs/planted.md: deploy.md#no-such-heading (no heading #no-such-heading in docs/deploy.md)",
      "docs/planted.md: #gone (no heading #gone in docs/planted.md)",
    ]);
  });
});
