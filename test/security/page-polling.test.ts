import { expect } from "chai";
import { publicConfig } from "../../handlers/api/config.js";
import { apiRuntimeSettings, parseApiRuntimeSettings, parseSettings } from "../../handlers/lib/config/settings.js";
import { jobsQueueVisibilityTimeoutSeconds } from "../../handlers/lib/contract/queue-timing.js";

interface PollModule {
  POLL_DEFAULTS: { giveUpAfterMs: number; maxDelayMs: number; firstDelayMs: number };
  pollOptionsFor(config: unknown): { giveUpAfterMs: number; maxDelayMs: number; firstDelayMs: number };
}
const { POLL_DEFAULTS, pollOptionsFor } = (await import(
  new URL("../../web/poll.js", import.meta.url).href
)) as PollModule;

describe("the page polls for as long as the pipeline can finish an image", () => {
  // issue 25 finding 9: the page stopped polling after 3 minutes ("Check again") while a crashed batch comes back
  // only after the 6-minute visibility timeout, and is retried up to maxReceiveCount times.
  it("GET /config says how long: the visibility timeout times the receives the queue allows, through the function's environment", () => {
    const settings = parseSettings({
      processor: { timeoutSeconds: 60, batchWindowSeconds: 5 },
      queue: { maxReceiveCount: 5 },
    });
    const expected = jobsQueueVisibilityTimeoutSeconds(settings.processor) * 5;
    expect(expected).to.equal((6 * 60 + 5) * 5);
    // As the API function reads it: JSON in its environment.
    const inLambda = parseApiRuntimeSettings(JSON.stringify(apiRuntimeSettings(settings)), "API_SETTINGS");
    expect(publicConfig(inLambda).processing).to.deep.equal({ retryWindowSeconds: expected });
  });

  it("polls that long plus a minute, backing off to 15 s between reads; never less than before", () => {
    const options = pollOptionsFor({ processing: { retryWindowSeconds: 1825 } });
    expect(options).to.deep.include({
      giveUpAfterMs: (1825 + 60) * 1000,
      maxDelayMs: 15_000,
      firstDelayMs: POLL_DEFAULTS.firstDelayMs,
    });
    expect(pollOptionsFor({})).to.deep.equal(POLL_DEFAULTS);
    expect(pollOptionsFor({ processing: { retryWindowSeconds: 60 } })).to.deep.equal(POLL_DEFAULTS);
  });
});
