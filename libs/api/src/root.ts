import { createCallerFactory, router } from './trpc';
import { modelsRouter } from './routers/models';
import { inferProcedure, vadRouter } from './routers/inference';
import { devicesRouter } from './routers/devices';
import { apiKeysRouter } from './routers/api-keys';
import { deploymentsRouter } from './routers/deployments';
import { fleetRouter } from './routers/fleet';
import { parityRouter } from './routers/parity';
import { variantsRouter } from './routers/variants';

/** The whole API. Server and edge agent mount the same router, so clients cannot tell them apart. */
export function createAppRouter() {
  return router({
    models: modelsRouter,
    infer: inferProcedure,
    vad: vadRouter,
    parity: parityRouter,
    devices: devicesRouter,
    apiKeys: apiKeysRouter,
    deployments: deploymentsRouter,
    fleet: fleetRouter,
    variants: variantsRouter,
  });
}

export const appRouter = createAppRouter();

/** Clients import this type only (`import type`), so no server code reaches a bundle. */
export type AppRouter = typeof appRouter;

/** Call procedures in-process (tests, the CLI's `--on local`): `createCaller({ services })`. */
export const createCaller = createCallerFactory(appRouter);
