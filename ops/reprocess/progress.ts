/** The counts a run shows while it goes. */
export interface ProgressState {
  total: number;
  sent: number;
  done: number;
  failed: number;
  gone: number;
  /** Jobs sent per second so far in this process. */
  rate: number;
}

const BAR_WIDTH = 24;

/** One line: on a terminal a bar redrawn in place (`\r`), elsewhere a plain line per change. */
export function progressLine(state: ProgressState, terminal: boolean): string {
  const settled = state.done + state.failed + state.gone;
  const counts = `${settled}/${state.total} finished (done ${state.done}, failed ${state.failed}, original gone ${state.gone}); sent ${state.sent}; ${state.rate.toFixed(1)} jobs/s`;
  if (!terminal) return `reprocess: ${counts}`;
  const filled = state.total === 0 ? BAR_WIDTH : Math.round((settled / state.total) * BAR_WIDTH);
  return `\r[${"#".repeat(filled)}${".".repeat(BAR_WIDTH - filled)}] ${counts}`;
}
