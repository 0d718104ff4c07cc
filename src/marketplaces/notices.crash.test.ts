import { expect, it } from 'vitest';
import { eventually } from '../../test/helpers/backend-simulator.ts';
import { useCrashHarness } from '../../test/helpers/crash-harness.ts';
import { apiClient } from '../../test/helpers/http.ts';
import { TEST_ADMIN_KEY } from '../../test/helpers/landlord.ts';
import { spawnLandlord } from '../../test/helpers/process.ts';
import { liveGroupOnMarketplace } from './marketplaces.test-support.ts';

// The DELETE notices survive a SIGKILL of a real Landlord process: owed while the app is down,
// delivered by the next process once it is back, each answered 2xx exactly once.

const crash = useCrashHarness();
const { started, env } = crash;

it('a group deletion and a user removal each reach the app exactly once after a SIGKILL during the app’s outage', async () => {
  let appUp = false;
  const answered = new Map<string, number>();
  crash.backend.behave((request) => {
    if (request.method !== 'DELETE') return { status: 200, body: {} };
    if (!appUp) return { status: 503 };
    answered.set(request.path, (answered.get(request.path) ?? 0) + 1);
    return { status: 200, body: { success: true } };
  });

  const first = await spawnLandlord(env());
  started.push(first);
  const admin = apiClient(first.url, TEST_ADMIN_KEY);
  const { groups, group } = await liveGroupOnMarketplace(admin, crash.backend.url, {
    name: 'market-crash',
    displayName: 'Sold on a marketplace',
  });
  const users = `${groups}/${group.uid}/users`;
  expect((await admin.post(users, { email: 'owner@example.com', name: 'Olive', surname: 'Owner', role: 'Super Admin' })).status).toBe(201);
  const member = (await admin.post(users, { email: 'member@example.com', name: 'Mel', surname: 'Member', role: 'Member' })).body.data;

  expect((await admin.delete(`${users}/${member.uid}`)).status).toBe(200);
  expect((await admin.delete(`${groups}/${group.uid}`)).status).toBe(200);
  const userPath = `/maestrano/account/groups/${group.uid}/users/${member.uid}/maestrano-dev`;
  const groupPath = `/maestrano/account/groups/${group.uid}/maestrano-dev`;
  // Both notices have been tried and refused at least once: they are between attempts when the process dies.
  await eventually(async () => {
    const paths = crash.backend.requests.filter((request) => request.method === 'DELETE').map((request) => request.path);
    return paths.includes(userPath) && paths.includes(groupPath) ? true : undefined;
  }, 30_000);
  first.child.kill('SIGKILL');
  await first.exited;

  appUp = true;
  const second = await spawnLandlord(env());
  started.push(second);
  await eventually(async () => (answered.get(userPath) && answered.get(groupPath) ? true : undefined), 30_000, 'both notices delivered');
  // Every attempt of one notice carried the same idempotency key and the marketplace's Basic credential.
  for (const path of [userPath, groupPath]) {
    const attempts = crash.backend.requests.filter((request) => request.method === 'DELETE' && request.path === path);
    expect(new Set(attempts.map((request) => request.headers['idempotency-key'])).size).toBe(1);
    expect(attempts.every((request) => String(request.headers.authorization).startsWith('Basic '))).toBe(true);
  }
  // Nothing more arrives: the delivered notices are settled (a retry would show within a few backoffs).
  const after = apiClient(second.url, TEST_ADMIN_KEY);
  await eventually(
    async () => {
      const history = await after.get(`/v1/tenants/${group.tenant.name}/history?kind=call&limit=500`);
      const successes = history.body.data.filter(
        (entry: { action: string; detail: { verdict: string } }) =>
          entry.action.startsWith('marketplace.') && entry.detail.verdict === 'success',
      );
      return successes.length === 2 ? true : undefined;
    },
    30_000,
    'both successes in the history',
  );
  await new Promise((resolve) => setTimeout(resolve, 1500));
  // Exactly once: every attempt of the first process met the app down (503), and a job that runs again after
  // the kill finds its attempt recorded (backend_call_attempts) instead of calling a second time.
  for (const path of [userPath, groupPath]) expect(answered.get(path), path).toBe(1);
  second.child.kill('SIGKILL');
  await second.exited;
}, 180_000);
