import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { apiClient } from '../../test/helpers/http.ts';
import { startTestLandlord, TEST_ADMIN_KEY, type TestLandlord } from '../../test/helpers/landlord.ts';
import { eventsOf } from './usage.test-support.ts';

let landlord: TestLandlord;
beforeAll(async () => {
  landlord = await startTestLandlord();
});
afterAll(async () => {
  await landlord?.close();
});

/** The first `sh` block of a README section. */
async function readmeBlock(heading: string): Promise<string> {
  const readme = await readFile(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf(`## ${heading}\n`));
  const match = /```sh\n([\s\S]*?)```/.exec(section);
  if (!match?.[1]) throw new Error(`no sh block under "${heading}"`);
  return match[1];
}

it('runs the README’s usage walk-through with curl: every call succeeds and the state is as the comments say', async () => {
  // What the walk-through before it made: the product `notes`, its tenant `acme` and the backend's client token.
  // No backend runs here: nothing is sent for acme, which is put live directly (the example backend made it live there).
  const notes = { name: 'notes', displayName: 'Notes', provisioning: { autoSendCreation: false } };
  expect((await landlord.admin.post('/v1/products', notes)).status).toBe(201);
  expect((await landlord.admin.post('/v1/tenants', { product: 'notes', name: 'acme', displayName: 'Acme' })).status).toBe(201);
  await landlord.node.services.db.updateTable('tenants').set({ status: 'active' }).where('name', '=', 'acme').execute();
  const client = (await landlord.admin.post('/v1/products/notes/clients', { name: 'notes-backend' })).body.data;
  const token = await apiClient(landlord.url).post('/v1/auth/token', {
    grant_type: 'client_credentials',
    client_id: client.clientId,
    client_secret: client.clientSecret,
  });

  // Each answer on a line of its own, so every one can be checked.
  const script = `set -e\ncurl() { command curl -w '\\n' "$@"; }\n${await readmeBlock('Usage and entitlements')}`;
  const { stdout } = await promisify(execFile)('bash', ['-c', script], {
    env: { PATH: process.env.PATH ?? '', LANDLORD: landlord.url, KEY: TEST_ADMIN_KEY, TOKEN: token.body.access_token },
  });
  const answers = stdout
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line));
  expect(answers).toHaveLength(12);
  for (const answer of answers) expect(answer.metadata, JSON.stringify(answer)).toMatchObject({ success: true });
  expect(answers[7].data).toMatchObject({ accepted: 1, events: [{ id: 'req-0001', outcome: 'accepted' }] });
  expect(answers[8].data).toEqual({ allowed: false, used: 850, limit: 1000, remaining: 150 });
  expect(answers[11].data).toMatchObject({ quantity: -100, used: 750 });

  const acme = (await landlord.admin.get('/v1/tenants/acme')).body.data;
  expect(
    (await eventsOf(landlord, acme.id, 'usage.threshold_reached')).map((event) => (event.data as { threshold: number }).threshold),
  ).toEqual([80]);
  const check = await landlord.admin.post('/v1/tenants/acme/entitlements/api_calls/check', { quantity: 200 });
  expect(check.body.data).toEqual({ allowed: true, used: 750, limit: 1000, remaining: 250 });
});
