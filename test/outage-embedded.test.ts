import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readLock } from '../src/db/data-dir-lock.ts';
import { isAlive } from '../src/db/embedded.ts';
import { type BackendSimulator, startBackendSimulator } from './helpers/backend-simulator.ts';
import { expectOutageSurvived, outageNodeEnv, runOutageScenario } from './helpers/outage.ts';
import { pgAnswers } from './helpers/pg-answers.ts';
import { type LandlordProcess, spawnLandlord } from './helpers/process.ts';

// The default setup: no DATABASE_URL, so Landlord runs the embedded PostgreSQL server it
// owns. Its postmaster is SIGKILLed under load; Landlord must start it again itself (same
// data directory, same port) and carry on with the same guarantees.

const CONCURRENCY = 8;
let dataDir: string;
let backend: BackendSimulator;
let landlord: LandlordProcess | undefined;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'landlord-embedded-outage-'));
  backend = await startBackendSimulator();
});
afterAll(async () => {
  if (landlord && landlord.child.exitCode === null) {
    landlord.child.kill('SIGTERM');
    await landlord.exited;
  }
  await backend?.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function postmasterPid(): Promise<number> {
  return Number((await readFile(join(dataDir, 'pg', 'postmaster.pid'), 'utf8')).split('\n')[0]);
}

it('restarts its embedded PostgreSQL killed under load, on the same data and port, losing and doubling nothing', async () => {
  landlord = await spawnLandlord({ ...outageNodeEnv(CONCURRENCY), LANDLORD_DATA_DIR: dataDir }, { readyWithinMs: 120_000 });
  const node = landlord;
  const port = (await readLock(dataDir))?.port as number;
  const password = (await readFile(join(dataDir, 'pg-password'), 'utf8')).trim();
  const killed: number[] = [];

  const report = await runOutageScenario({
    landlord: node,
    backend,
    tenants: 200,
    outages: [{ afterAccepted: 70, downMs: 0 }],
    database: {
      kill: async () => {
        const pid = await postmasterPid();
        killed.push(pid);
        process.kill(pid, 'SIGKILL');
        while (isAlive(pid)) await sleep(10);
      },
      // Nobody but Landlord starts it again.
      restart: async () => {
        const deadline = Date.now() + 60_000;
        while (!(await pgAnswers({ host: '127.0.0.1', port, user: 'landlord', password, database: 'landlord' }, 1000))) {
          if (Date.now() > deadline) throw new Error(`the embedded server was not restarted:\n${node.output().slice(-4000)}`);
          await sleep(50);
        }
      },
    },
  });
  await expectOutageSurvived(report, { landlord: node, backend, concurrency: CONCURRENCY });

  const restarted = await postmasterPid();
  expect(restarted).not.toBe(killed[0]);
  expect(isAlive(restarted)).toBe(true);
  expect((await readLock(dataDir))?.port).toBe(port);
  expect(node.output()).toMatch(/embedded-postgres stopped: the embedded PostgreSQL server \(pid \d+\) exited; restarting it/);
  expect(node.output()).toContain('"msg":"embedded-postgres restarted"');

  node.child.kill('SIGTERM');
  expect(await node.exited).toBe(0);
  expect(isAlive(restarted)).toBe(false);
}, 240_000);
