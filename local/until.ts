import { setTimeout as sleep } from "node:timers/promises";

/** Waits until `condition` holds, checking every `pollMs`; after `timeoutMs` fails naming `what` it waited for. */
export async function until(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
  pollMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(pollMs);
  }
}
