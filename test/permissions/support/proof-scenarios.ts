import { OPEN_CDN_STEPS, OPEN_STEPS, TOKEN_CDN_STEPS, type Step } from "./proof.js";
import { OPEN_CDN, OPEN_PRESIGNED, startIssuer, startRun, tokenCdn, type ProofRun } from "./proof-runs.js";

/** One deployment the proof drives: its settings, the steps that exercise it, and how to start it. */
export interface ProofScenario {
  title: string;
  steps: Step[];
  /** Starts the run under a name of its own (`suffix` keeps two files' runs of one scenario apart). */
  start(suffix: string): Promise<{ run: ProofRun; stop(): Promise<void> }>;
}

/** The three deployments every permission test proves: both access modes and both deliveries between them. */
export const PROOF_SCENARIOS: ProofScenario[] = [
  {
    title: "open mode, presigned delivery, legacy routes, events with a webhook",
    steps: OPEN_STEPS,
    async start(suffix) {
      const run = await startRun(`open${suffix}`, OPEN_PRESIGNED);
      return { run, stop: () => run.stop() };
    },
  },
  {
    title: "open mode behind the CDN, events with a webhook",
    steps: OPEN_CDN_STEPS,
    async start(suffix) {
      const run = await startRun(`open-cdn${suffix}`, OPEN_CDN);
      return { run, stop: () => run.stop() };
    },
  },
  {
    title: "token mode, delivery through the CDN, events with a webhook",
    steps: TOKEN_CDN_STEPS,
    async start(suffix) {
      const issuer = await startIssuer();
      const run = await startRun(`token-cdn${suffix}`, tokenCdn(issuer.auth), { issuer: issuer.issuer });
      return {
        run,
        stop: async () => {
          await run.stop();
          await issuer.stop();
        },
      };
    },
  },
];
