/** The API Lambda behind the Function URL. Clients and settings are made once per container (handlers/api/create-from-env.ts). */
import { createApiFromEnv } from "./api/create-from-env.js";

export const handler = createApiFromEnv();
