/**
 * fauxqs (the SQS stand-in) on a loopback port only.
 *
 * fauxqs 2.4.1's startFauxqs always listens on 0.0.0.0 (its `host` option only changes the queue URLs it reports),
 * which would let anyone on the network read, inject or purge jobs. Its exported buildApp can listen where we like,
 * but the SQLite persistence (PersistenceManager, the stores) is wired only inside startFauxqs and not exported.
 * So startFauxqs builds the server, and Fastify's documented `fastify.initialization` diagnostics channel hands us
 * its instance before it listens: we pin that instance's listen to 127.0.0.1, then check where it actually listens.
 */
import { channel } from "node:diagnostics_channel";
import type { AddressInfo, Server } from "node:net";
import type { Server as HttpServer } from "node:http";
import { startFauxqs, type FauxqsServer } from "fauxqs";
import { acceptLoopbackHostsOnly } from "./loopback-host.js";

export const SQS_STAND_IN_HOST = "127.0.0.1";

/** The part of a Fastify instance this module touches. */
interface FastifyInstanceLike {
  server: Server;
  listen(options: { port: number; host?: string }): Promise<string>;
}

export async function startLoopbackFauxqs(dataDir: string, port = 0): Promise<FauxqsServer> {
  const initialization = channel("fastify.initialization");
  let app: FastifyInstanceLike | undefined;
  const pinToLoopback = (message: unknown) => {
    if (app) return; // only the instance startFauxqs builds synchronously below
    app = (message as { fastify: FastifyInstanceLike }).fastify;
    const listen = app.listen.bind(app);
    app.listen = (options) => listen({ ...options, host: SQS_STAND_IN_HOST });
  };
  initialization.subscribe(pinToLoopback);
  let server: FauxqsServer;
  try {
    server = await startFauxqs({ port, logger: false, dataDir });
  } finally {
    initialization.unsubscribe(pinToLoopback);
  }
  // fauxqs reports 127.0.0.1 even when bound to 0.0.0.0: ask the socket itself.
  const bound = app?.server.address() as AddressInfo | null | undefined;
  const listeningOn = bound?.address ?? "an unknown address";
  if (listeningOn !== SQS_STAND_IN_HOST) {
    await server.stop();
    throw new Error(
      `the SQS stand-in (fauxqs) listens on ${listeningOn}, not only on loopback ${SQS_STAND_IN_HOST}; refusing to run`,
    );
  }
  acceptLoopbackHostsOnly(app!.server as HttpServer);
  return server;
}
