// Builds the HTTP application from its dependencies. No I/O happens here:
// tests build an app around a real store and drive it with app.handle().
import { Elysia } from "elysia";
import { openapi } from "@elysiajs/openapi";
import { AccountsService } from "./accounts/service";
import type { Config } from "./config";
import type { AppContext } from "./context";
import { healthRoutes } from "./health";
import { bearerAuth } from "./http/auth";
import { errorHandling } from "./http/errors";
import { createLogger, type Logger } from "./log";
import { sitesRoutes } from "./sites";
import { SitesService } from "./sites/service";
import type { Store } from "./store/types";
import { syncRoutes } from "./sync";
import { SyncService } from "./sync/service";

export interface AppDeps {
  config: Config;
  store: Store;
  logger?: Logger;
}

export function buildContext({ config, store, logger = createLogger(config.logLevel) }: AppDeps): AppContext {
  const accounts = new AccountsService(store);
  return {
    config,
    logger,
    store,
    accounts,
    sites: new SitesService(store),
    sync: new SyncService(store, logger),
    auth: bearerAuth(accounts),
  };
}

const documentation = {
  info: {
    title: "modsync",
    version: "1.0.0",
    description: "Ingestion API for Drupal module inventories: sites push their modules, modsync keeps the exact set per site.",
  },
  tags: [
    { name: "Sync", description: "Module inventory ingestion" },
    { name: "Sites", description: "Site registration and inventory reads" },
    { name: "Operations", description: "Health and readiness" },
  ],
  components: {
    securitySchemes: {
      bearerAuth: { type: "http" as const, scheme: "bearer", description: "An API token issued with `npm run cli -- token create`" },
    },
  },
};

export function createApp(deps: AppDeps) {
  const ctx = buildContext(deps);
  return new Elysia({ serve: { maxRequestBodySize: deps.config.maxBodyBytes } })
    .use(errorHandling(ctx.logger))
    .use(openapi({ path: "/swagger", specPath: "/swagger/json", documentation }))
    .use(healthRoutes(ctx))
    .use(sitesRoutes(ctx))
    .use(syncRoutes(ctx));
}

export type App = ReturnType<typeof createApp>;
