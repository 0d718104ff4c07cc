import { errors } from 'oidc-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, statementRecordingDb, type TestDatabase } from '../../test/helpers/database.ts';
import type { Db } from '../db/database.ts';
import { manualClock } from '../platform/clock.ts';
import { postgresAdapter } from './adapter.ts';

let database: TestDatabase;
let db: Db;
let statements: string[];
const clock = manualClock(new Date('2026-03-01T12:00:00Z'));
const noClients = { find: async () => undefined };

beforeAll(async () => {
  database = await createTestDatabase();
  ({ db, sent: statements } = statementRecordingDb(database.url));
});
afterAll(async () => {
  await db?.destroy();
  await database?.drop();
});

/** Runs `work`, returning what it gave and the statements it sent. */
async function counting<T>(work: () => Promise<T>): Promise<{ result: T; sent: string[] }> {
  statements.length = 0;
  const result = await work();
  return { result, sent: [...statements] };
}

describe('the oidc-provider adapter', () => {
  // One adapter class serves every model, as in the provider.
  let Adapter: ReturnType<typeof postgresAdapter>;
  beforeAll(() => {
    Adapter = postgresAdapter(db, clock, noClients);
  });

  it('sends the saves and reads of one turn, from any number of callers, as one statement each, and answers each caller its own row', async () => {
    const codes = new Adapter('AuthorizationCode');
    const sessions = new Adapter('Session');
    const ids = Array.from({ length: 40 }, (_, index) => `code-${index}`);
    const saved = await counting(() =>
      Promise.all([
        ...ids.map((id, index) => codes.upsert(id, { index, grantId: `grant-${index}` }, 60)),
        sessions.upsert('session-1', { uid: 'uid-1', accountId: 'someone' }, 600),
      ]),
    );
    expect(saved.sent.filter((text) => text.startsWith('insert into oidc_payloads'))).toHaveLength(1);

    const read = await counting(() =>
      Promise.all([...ids.map((id) => codes.find(id)), codes.find('no-such-code'), sessions.find('code-1'), sessions.findByUid('uid-1')]),
    );
    expect(read.sent).toHaveLength(2); // one by id, one by uid
    const answers = read.result;
    expect(answers.slice(0, 40).map((payload) => payload?.index)).toEqual(ids.map((_, index) => index));
    expect(answers[40]).toBeUndefined();
    // The same id under another model is another row.
    expect(answers[41]).toBeUndefined();
    expect(answers[42]).toMatchObject({ uid: 'uid-1', accountId: 'someone' });
  });

  it('keeps the last of two saves of one row in the same turn', async () => {
    const grants = new Adapter('Grant');
    await Promise.all([grants.upsert('grant-x', { version: 1 }, 60), grants.upsert('grant-x', { version: 2 }, 60)]);
    expect(await grants.find('grant-x')).toMatchObject({ version: 2 });
  });

  it('lets exactly one of many exchanges of a code in one turn consume it, and ends the grant for the others', async () => {
    const codes = new Adapter('AuthorizationCode');
    const tokens = new Adapter('AccessToken');
    await codes.upsert('contested', { grantId: 'grant-c' }, 60);
    await tokens.upsert('token-of-grant-c', { grantId: 'grant-c' }, 60);
    await codes.upsert('other', { grantId: 'grant-d' }, 60);

    const outcomes = await Promise.allSettled([...Array.from({ length: 5 }, () => codes.consume('contested')), codes.consume('other')]);
    const won = outcomes.slice(0, 5).filter((outcome) => outcome.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const outcome of outcomes.slice(0, 5)) {
      if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(errors.InvalidGrant);
    }
    expect(outcomes[5]?.status).toBe('fulfilled');
    // Reuse ends the whole grant; the other code's grant lives on, consumed.
    expect(await tokens.find('token-of-grant-c')).toBeUndefined();
    expect(await codes.find('other')).toMatchObject({ grantId: 'grant-d', consumed: expect.any(Number) });
  });

  it('does not find what has expired, by id or by uid', async () => {
    const interactions = new Adapter('Interaction');
    await interactions.upsert('short', { uid: 'uid-short' }, 1);
    expect(await interactions.findByUid('uid-short')).toMatchObject({ uid: 'uid-short' });
    clock.advance(1_001);
    expect(await Promise.all([interactions.find('short'), interactions.findByUid('uid-short')])).toEqual([undefined, undefined]);
  });
});
