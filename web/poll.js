/** Polls an image's record with backoff until it is done or failed, and gives up after a bound. */
import { getImage } from "./api.js";

export const POLL_DEFAULTS = { firstDelayMs: 500, factor: 1.5, maxDelayMs: 5000, giveUpAfterMs: 3 * 60 * 1000 };

/** Past this, an image not yet settled is being retried: a first attempt ends well within it. */
export const RETRYING_AFTER_MS = POLL_DEFAULTS.giveUpAfterMs;

/**
 * Polling for as long as the pipeline can still finish an image: GET /config's `processing.retryWindowSeconds`
 * (every receive the queue allows, each after a visibility timeout) plus a minute, never less than the default;
 * the backoff grows to 15 s between reads once past the default bound.
 */
export function pollOptionsFor(config) {
  const windowMs = (config?.processing?.retryWindowSeconds ?? 0) * 1000;
  const giveUpAfterMs = Math.max(POLL_DEFAULTS.giveUpAfterMs, windowMs + 60_000);
  return {
    ...POLL_DEFAULTS,
    giveUpAfterMs,
    maxDelayMs: giveUpAfterMs > POLL_DEFAULTS.giveUpAfterMs ? 15_000 : POLL_DEFAULTS.maxDelayMs,
  };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * @param onUpdate called with every record read (status changes included), and the time polled so far in ms
 * @returns {Promise<{outcome: "settled", image: object} | {outcome: "gave-up", image?: object}>}
 *          rejects with the ApiError of a 404 (the id is unknown), which polling again cannot fix
 */
export async function pollImage(id, onUpdate, options = POLL_DEFAULTS) {
  const started = Date.now();
  let delay = options.firstDelayMs;
  let last;
  for (;;) {
    try {
      last = await getImage(id);
      onUpdate(last, Date.now() - started);
      if (last.status === "done" || last.status === "failed") return { outcome: "settled", image: last };
    } catch (error) {
      if (error.status === 404) throw error;
      // A network blip or a 5xx: keep polling with the same backoff, within the same bound.
    }
    if (Date.now() - started + delay > options.giveUpAfterMs) return { outcome: "gave-up", image: last };
    await sleep(delay);
    delay = Math.min(delay * options.factor, options.maxDelayMs);
  }
}
