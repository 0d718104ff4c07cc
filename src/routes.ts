import type { Logger } from 'pino';
import type { Config } from './config/config.ts';
import type { Db } from './db/database.ts';
import type { HttpApp } from './http/types.ts';
import type { Clock } from './platform/clock.ts';
import type { SecretBox } from './platform/secret-box.ts';
import type { KeyRing } from './platform/signing-keys.ts';
import { registerProductRoutes } from './products/products.routes.ts';

/** The shared parts every feature is built from. */
export interface Services {
  db: Db;
  box: SecretBox;
  clock: Clock;
  keyRing: KeyRing;
  config: Config;
  log: Logger;
}

/** Registers every feature's routes on the app. */
export function registerFeatureRoutes(app: HttpApp, services: Services): void {
  const { db, box, clock } = services;
  registerProductRoutes(app, db, { box, clock });
}
