import { parseArgs } from 'node:util';
import type { Actor } from '../access/principal.ts';
import { insertAuditRecord } from '../audit/audit.repo.ts';
import type { Config } from '../config/config.ts';
import type { Db } from '../db/database.ts';
import { AppError } from '../errors/app-error.ts';
import type { Clock } from '../platform/clock.ts';
import { isUuid } from '../platform/ids.ts';
import { CONSOLE_LINK_SECONDS, createConsoleLink } from './operators.ts';

/** Where the console is reached: `LANDLORD_PUBLIC_URL`, else the address Landlord listens on. */
export function consoleBaseUrl(config: Config): string {
  if (config.publicUrl) return config.publicUrl;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.port}`;
}

/**
 * `landlord console link [--key ID_OR_PREFIX]`: a one-time link (5 minutes) that signs a
 * browser in to the console — as a super admin, or with the rights of the operator key
 * named (a product-scoped key's link sees only its product). Returns the text to print.
 */
export async function consoleLinkCommand(db: Db, config: Config, clock: Clock, actor: Actor, args: string[]): Promise<string> {
  if (!config.console) throw new AppError('request.invalid', { message: 'The console is off (LANDLORD_CONSOLE=off)' });
  const { values } = parseArgs({ args, options: { key: { type: 'string' } } });
  let subject = 'root';
  if (values.key) {
    const key = await db
      .selectFrom('api_keys')
      .select(['id', 'name'])
      .where((eb) => (isUuid(values.key as string) ? eb('id', '=', values.key as string) : eb('lookup', '=', values.key as string)))
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (!key) throw new AppError('api_key.not_found', { message: `No active API key "${values.key}"`, parameter: 'key' });
    subject = `key:${key.id}`;
  }
  const link = await createConsoleLink(db, clock, subject);
  await insertAuditRecord(db, actor, { action: 'console_link.create', objectType: 'console_link', objectId: subject, productId: null });
  return `Open this link within ${CONSOLE_LINK_SECONDS / 60} minutes; it works once:\n\n  ${consoleBaseUrl(config)}/console/link/${link.token}\n`;
}
