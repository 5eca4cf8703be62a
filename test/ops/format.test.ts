import { expect } from "chai";
import { formatListing } from "../../ops/dlq/format.js";
import type { DeadLetter } from "../../ops/dlq/list.js";

describe("dlq list: the table for people", () => {
  const letter: DeadLetter = {
    messageId: "m-1",
    imageId: "01a21c52-f9e3-75a1-a81d-586da2fbeb95",
    key: "uploads/01a21c52-f9e3-75a1-a81d-586da2fbeb95",
    receiveCount: 5,
    firstReceivedAt: "2026-11-27T09:00:00.000Z",
    lastAttemptAt: "2026-11-27T09:05:00.000Z",
    status: "processing",
    attempts: 5,
    error: { code: "transient", message: "SlowDown: Please reduce your request rate." },
  };

  it("never claims fewer messages than it shows when the queue's count lags behind", () => {
    const text = formatListing({ depth: { visible: 0, inFlight: 0 }, messages: [letter] }, "local runtime");
    expect(text.split("\n")[0]).to.equal("local runtime: about 1 message(s) in the DLQ; 1 shown");
  });

  it("shows each dead letter's id, key, receives, status and error in columns", () => {
    const lines = formatListing({ depth: { visible: 3, inFlight: 1 }, messages: [letter] }, "stack dev").split("\n");
    expect(lines[0]).to.equal(
      "stack dev: about 4 message(s) in the DLQ (1 of them in flight: being listed or replayed); 1 shown",
    );
    expect(lines[1]).to.match(/^IMAGE ID\s+KEY\s+RECEIVES\s+FIRST RECEIVED\s+LAST ATTEMPT\s+STATUS\s+ERROR$/);
    expect(lines[2]!.split(/\s{2,}/)).to.deep.equal([
      letter.imageId,
      letter.key,
      "5",
      "2026-11-27T09:00:00.000Z",
      "2026-11-27T09:05:00.000Z",
      "processing",
      "transient: SlowDown: Please reduce your request rate.",
    ]);
  });
});
