/**
 * Just enough Markdown for the docs drift test: fenced code is not prose, headings become GitHub's anchors, links
 * and table rows are read from what remains.
 */

/** The text without fenced code blocks (their contents are examples, not links or headings). */
export function withoutFencedCode(markdown: string): string {
  const lines: string[] = [];
  let fence: string | undefined;
  for (const line of markdown.split("\n")) {
    const opening = /^\s*(```|~~~)/.exec(line);
    if (fence === undefined && opening) fence = opening[1];
    else if (fence !== undefined && line.trimStart().startsWith(fence)) fence = undefined;
    else if (fence === undefined) lines.push(line);
  }
  return lines.join("\n");
}

/** GitHub's anchor for a heading: lower case, punctuation but `-` and `_` dropped, spaces to `-`. */
export function slugOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, "")
    .replace(/ /g, "-");
}

/** Every anchor the document's headings make, with GitHub's `-1`, `-2` suffixes for repeats. */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const match of withoutFencedCode(markdown).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const slug = slugOf(match[1]!);
    const count = seen.get(slug) ?? 0;
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
    seen.set(slug, count + 1);
  }
  return anchors;
}

/** The targets of the document's Markdown links and images that are not absolute URLs (`path`, `path#anchor`, `#anchor`). */
export function relativeLinksOf(markdown: string): string[] {
  const prose = withoutFencedCode(markdown).replace(/`[^`\n]*`/g, "");
  return [...prose.matchAll(/!?\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)]
    .map((match) => match[1]!)
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

/** The cells of a table row (`| a | b |`), trimmed; `\|` stays inside its cell. */
export function cellsOf(row: string): string[] {
  return row
    .trim()
    .replace(/^\||\|$/g, "")
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim());
}

/** The first table after the heading `title`, as rows of cells, header and separator left out. */
export function tableUnder(markdown: string, title: string): string[][] {
  const lines = withoutFencedCode(markdown).split("\n");
  const start = lines.findIndex((line) => /^#{1,6}\s/.test(line) && line.replace(/^#+\s+/, "").trim() === title);
  if (start < 0) return [];
  const first = lines.findIndex((line, i) => i > start && line.trimStart().startsWith("|"));
  if (first < 0) return [];
  const rows: string[][] = [];
  for (let i = first + 2; i < lines.length && lines[i]!.trimStart().startsWith("|"); i++) rows.push(cellsOf(lines[i]!));
  return rows;
}
