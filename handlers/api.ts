/** The API Lambda behind the Function URL. Clients and settings are made once per container (handlers/api/environment.ts). */
import { createApiFromEnv } from "./api/environment.js";

export const handler = createApiFromEnv();
