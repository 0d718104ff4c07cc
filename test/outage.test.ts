import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, it } from 'vitest';
import { type BackendSimulator, startBackendSimulator } from './helpers/backend-simulator.ts';
import { expectOutageSurvived, type Outage, outageNodeEnv, runOutageScenario } from './helpers/outage.ts';
import { type OwnPostgres, startOwnPostgres } from './helpers/own-postgres.ts';
import { type LandlordProcess, spawnLandlord } from './helpers/process.ts';

// Landlord as its own process on a PostgreSQL server of this file's own, whose
// postmaster is SIGKILLed mid-burst and started again on the same data directory:
// what a managed database's maintenance, a failover or a host reboot does.

const CONCURRENCY = 8;
let server: OwnPostgres;
let backend: BackendSimulator;
let landlord: LandlordProcess | undefined;
let databases = 0;

beforeAll(async () => {
  server = await startOwnPostgres();
  backend = await startBackendSimulator();
}, 60_000);
afterEach(async () => {
  if (landlord && landlord.child.exitCode === null) {
    landlord.child.kill('SIGTERM');
    await landlord.exited;
  }
  landlord = undefined;
});
afterAll(async () => {
  await backend?.close();
  await server?.destroy();
});

/** A Landlord node on a fresh database of the own server. */
async function startNode(): Promise<LandlordProcess> {
  const name = `landlord_outage_${++databases}`;
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  landlord = await spawnLandlord(
    { ...outageNodeEnv(CONCURRENCY), DATABASE_URL: server.url.replace(/\/postgres$/, `/${name}`) },
    { readyWithinMs: 120_000 },
  );
  return landlord;
}

const killAndRestart = {
  kill: () => server.kill(),
  restart: async (downMs: number) => {
    await new Promise((resolve) => setTimeout(resolve, downMs));
    await server.start();
  },
};

async function survives(outages: Outage[], tenants = 200) {
  // The backend is shared by the tests of this file and the tenants' names repeat: start from no calls.
  backend.requests.length = 0;
  const node = await startNode();
  const report = await runOutageScenario({ landlord: node, backend, database: killAndRestart, tenants, outages }).catch(async (error) => {
    const client = new pg.Client({ connectionString: server.url.replace(/\/postgres$/, `/landlord_outage_${databases}`) });
    await client.connect();
    const jobs = await client.query(
      `select task_identifier, locked_by, attempts, run_at > now() as later, left(last_error, 300) as error, count(*)::int
       from graphile_worker.jobs group by 1, 2, 3, 4, 5`,
    );
    const queues = await client.query('select locked_by, count(*)::int from graphile_worker._private_job_queues group by 1');
    const nodes = await client.query('select id, worker_pool_id, heartbeat_at from landlord_nodes');
    await client.end();
    throw new Error(
      `${error}\njobs ${JSON.stringify(jobs.rows)}\nqueues ${JSON.stringify(queues.rows)}\nnodes ${JSON.stringify(nodes.rows)}`,
    );
  });
  await expectOutageSurvived(report, { landlord: node, backend, concurrency: CONCURRENCY });
}

describe('the database server killed (SIGKILL of the postmaster) and started again on the same data', () => {
  it('survives a short outage mid-burst: no 500, nothing lost or doubled, ready again within 10 s', async () => {
    await survives([{ afterAccepted: 70, downMs: 3000 }]);
  }, 180_000);

  it('survives a 30 s outage', async () => {
    await survives([{ afterAccepted: 50, downMs: 30_000 }], 120);
  }, 240_000);

  it('survives two outages in a row', async () => {
    await survives([
      { afterAccepted: 50, downMs: 2000 },
      { afterAccepted: 130, downMs: 2000 },
    ]);
  }, 240_000);
});
