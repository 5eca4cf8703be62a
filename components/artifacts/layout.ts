/**
 * Where things sit inside the Lambda packages. Lambda unpacks a package into LAMBDA_TASK_ROOT (/var/task).
 *
 *   api.zip        api.mjs, web/** (the page), web/vendor/bootstrap/** (bootstrap's dist/), web/client/*.js (the client)
 *   processor.zip  process.mjs, node_modules/{sharp,@img/*,detect-libc,semver} for the target architecture
 */
export const LAMBDA_TASK_ROOT = "/var/task";
export const API_WEB_ROOT = `${LAMBDA_TASK_ROOT}/web`;
/** handlers/api/static-files.ts serves `<webRoot>/vendor/bootstrap/` for `/vendor/bootstrap/` first. */
export const BOOTSTRAP_DIR_IN_WEB = "vendor/bootstrap";
/** handlers/api/static-files.ts serves `<webRoot>/client/` for `/client/` first (the page imports the client there). */
export const CLIENT_DIR_IN_WEB = "client";
