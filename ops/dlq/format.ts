import type { DeadLetter, DeadLetterListing } from "./list.js";

/** The listing as a plain-text table for people; missing values show as "-". */
export function formatListing(listing: DeadLetterListing, where: string): string {
  const { visible, inFlight } = listing.depth;
  const inFlightNote = inFlight > 0 ? ` (${inFlight} of them in flight: being listed or replayed)` : "";
  // The count is read before the listing's own receive and may lag behind it (SQS says "approximate"): never
  // claim fewer messages than were just shown.
  const count = Math.max(visible + inFlight, listing.messages.length);
  const header = `${where}: about ${count} message(s) in the DLQ${inFlightNote}`;
  if (listing.messages.length === 0) return header;
  return `${header}; ${listing.messages.length} shown\n${formatTable(listing.messages)}`;
}

const COLUMNS: Array<[string, (letter: DeadLetter) => string | number | undefined]> = [
  ["IMAGE ID", (letter) => letter.imageId],
  ["KEY", (letter) => letter.key ?? (letter.note ? `(${letter.note})` : undefined)],
  ["RECEIVES", (letter) => letter.receiveCount],
  ["FIRST RECEIVED", (letter) => letter.firstReceivedAt],
  ["LAST ATTEMPT", (letter) => letter.lastAttemptAt],
  ["STATUS", (letter) => letter.status ?? (letter.imageId ? "(no record)" : undefined)],
  ["ERROR", (letter) => (letter.error ? `${letter.error.code}: ${letter.error.message}` : undefined)],
];

export function formatTable(letters: DeadLetter[]): string {
  const rows = letters.map((letter) => COLUMNS.map(([, cell]) => String(cell(letter) ?? "-")));
  const widths = COLUMNS.map(([title], index) => Math.max(title.length, ...rows.map((row) => row[index]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, index) => cell.padEnd(widths[index]!))
      .join("  ")
      .trimEnd();
  return [line(COLUMNS.map(([title]) => title)), ...rows.map(line)].join("\n");
}
