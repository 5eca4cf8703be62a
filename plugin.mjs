/**
 * The component package's entry point for the Pulumi language host (package.json `main`, which the host loads
 * when it runs this directory as a plugin; PulumiPlugin.yaml). Plain JavaScript: the host starts it in the
 * consumer's working directory, where no `--import tsx` would resolve, so it registers tsx from this package's own
 * dependencies, then loads provider.ts, which hosts ImagePipeline. No top-level await: the host require()s it.
 */
import { register } from "tsx/esm/api";

register();
import("./provider.ts").catch((error) => {
  console.error(error);
  process.exit(1);
});
