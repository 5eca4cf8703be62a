/**
 * `npm start`: the local runtime's command line. Prints `ready http://127.0.0.1:PORT` once uploads are accepted,
 * a line per processed image, and exits 0 after Ctrl-C or SIGTERM once in-flight batches are drained; a taken
 * port, an unwritable DATA_DIR or a bad setting exits 1 with the reason.
 */
import { parseCliArgs, UsageError, USAGE } from "./cli/start-options.js";
import { startLocalPipeline, type LocalPipeline } from "./pipeline.js";

// fauxqs persists through node:sqlite, which Node 22 flags as experimental on every start.
process.removeAllListeners("warning");
process.on("warning", (warning) => {
  if (warning.name !== "ExperimentalWarning") console.error(`${warning.name}: ${warning.message}`);
});

function fail(message: string): never {
  console.error(`error: ${message}`);
  process.exit(1);
}

async function main(): Promise<void> {
  let options;
  try {
    options = parseCliArgs(process.argv.slice(2));
  } catch (error) {
    if (error instanceof UsageError) {
      // One line and exit 2, as every command of the project (npm run dlq, token, bench) refuses a bad option.
      console.error(`error: ${error.message} (npm start -- --help)`);
      process.exit(2);
    }
    throw error;
  }
  if (options.help) {
    console.log(USAGE);
    return;
  }

  let pipeline: LocalPipeline | undefined;
  const stop = (running: LocalPipeline) =>
    running.stop().then(
      () => {
        console.log("stopped");
        process.exit(0);
      },
      (error: Error) => fail(`stopping failed: ${error.message}`),
    );
  let stopping = false;
  const onSignal = (signal: string) => {
    if (stopping) {
      console.log(`${signal} again: exiting without waiting`);
      process.exit(130);
    }
    stopping = true;
    console.log(`${signal}: stopping (finishing the batches in flight)...`);
    if (pipeline) stop(pipeline); // else main() stops it as soon as it has started
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  process.on("SIGHUP", onSignal);
  // `npm start` runs this under npm and a shell; a supervisor that signals only npm leaves this process orphaned,
  // still holding PORT and DATA_DIR. Stop cleanly when that happens.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent && !stopping) onSignal("parent process exited");
  }, 1000).unref();

  try {
    pipeline = await startLocalPipeline({
      port: options.port,
      dataDir: options.dataDir,
      stack: options.stack,
      newPorts: options.newPorts,
      faults: options.faults,
      devAuth: options.devAuth,
      legacyApi: options.legacyApi,
      ...(options.webhook ? { webhook: options.webhook } : {}),
      log: (line) => console.log(line),
    });
  } catch (error) {
    fail((error as Error).message);
  }
  if (stopping) await stop(pipeline);
}

main().catch((error: Error) => fail(error.stack ?? error.message));
