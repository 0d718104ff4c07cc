/**
 * Test support for health: a Landlord whose own prober is off (LANDLORD_HEALTH_CONCURRENCY=0)
 * under a manual clock, a simulated backend on loopback answering each tenant's health
 * check as the test says, and rounds of probing driven by hand.
 */
import { sql } from 'kysely';
import {
  type BackendSimulator,
  type Behaviour,
  eventually,
  type RecordedRequest,
  startBackendSimulator,
} from '../../test/helpers/backend-simulator.ts';
import type { TestDatabase } from '../../test/helpers/database.ts';
import { uniqueName } from '../../test/helpers/fixtures.ts';
import { startTestLandlord, type TestLandlord } from '../../test/helpers/landlord.ts';
import { manualClock } from '../platform/clock.ts';
import { createEgressPolicy } from '../platform/egress.ts';
import { createOutboundHttp, type OutboundHttp } from '../platform/outbound.ts';
import type { TenantHealthView } from './health.schemas.ts';
import { type ProbeCounts, type ProberDeps, runProbeRound } from './prober.ts';

/** Fast cadence for tests: 10 s interval, 1 s timeout, 3 failures, recheck 2 s, unavailable recheck 5 s. */
export const TEST_CADENCE = {
  intervalSeconds: 10,
  timeoutSeconds: 1,
  failureThreshold: 3,
  recheckSeconds: 2,
  unavailableRecheckSeconds: 5,
};

/** How the simulated backend answers one tenant's health check. */
export type HealthAnswer = Behaviour | ((request: RecordedRequest) => Behaviour);

/** A test Landlord with a health-watched product wired to a simulated backend. */
export interface HealthRig {
  landlord: TestLandlord;
  backend: BackendSimulator;
  clock: ReturnType<typeof manualClock>;
  http: OutboundHttp;
  product: { id: string; name: string };
  apiKey: string;
  /** Health answers by tenant name (default 200). */
  answers: Map<string, HealthAnswer>;
  /** Creates a tenant through the API and waits until it is `created_as_active` (watched). */
  liveTenant(prefix?: string, product?: string): Promise<{ id: string; name: string }>;
  /** What a prober of node `nodeId` runs with (the rig's loopback-allowing HTTP client unless given another). */
  deps(nodeId: string, http?: OutboundHttp): ProberDeps;
  /** One round of probing as node `nodeId` at the clock's now. */
  round(nodeId?: string): Promise<ProbeCounts>;
  /** Sets the clock to the tenant's next probe and runs a round. */
  probeNext(name: string, nodeId?: string): Promise<ProbeCounts>;
  /** The `health` of the tenant read (null when not watched). */
  health(name: string): Promise<TenantHealthView | null>;
  /** The same, failing when the tenant is not watched. */
  watched(name: string): Promise<TenantHealthView>;
  healthChecks(name: string): RecordedRequest[];
  unavailableCalls(name: string): RecordedRequest[];
  nextProbeAt(name: string): Promise<Date>;
  close(): Promise<void>;
}

/** Starts a health rig; `cadence` overrides {@link TEST_CADENCE}. */
export async function startHealthRig(
  options: { cadence?: Record<string, unknown>; env?: Record<string, string>; database?: TestDatabase } = {},
): Promise<HealthRig> {
  const clock = manualClock(new Date(Math.floor(Date.now() / 1000) * 1000));
  const landlord = await startTestLandlord({
    clock,
    database: options.database,
    // Its own prober off (the test drives rounds); small pools, the machine's PostgreSQL is shared.
    env: { LANDLORD_HEALTH_CONCURRENCY: '0', LANDLORD_EGRESS_ALLOW: '127.0.0.1', LANDLORD_WORKER_CONCURRENCY: '4', ...options.env },
  });
  const backend = await startBackendSimulator();
  const answers = new Map<string, HealthAnswer>();
  backend.behave((request) => {
    const [, , , name = '', event] = request.path.split('/');
    if (event !== 'health-status') return { status: 200, body: {} };
    const answer = answers.get(decodeURIComponent(name)) ?? { status: 200, body: { status: 'ok' } };
    return typeof answer === 'function' ? answer(request) : answer;
  });
  const apiKey = `health-key-${uniqueName('k')}`;
  const events = ['creation', 'activation', 'deactivation', 'deletion', 'unavailable'];
  const created = await landlord.admin.post('/v1/products', {
    name: uniqueName('watched'),
    displayName: 'Watched product',
    apiKey,
    webhooks: Object.fromEntries(events.map((event) => [event, `${backend.url}/api/integration/{name}/${event}`])),
    healthCheck: { url: `${backend.url}/api/integration/{name}/health-status`, ...TEST_CADENCE, ...options.cadence },
    // A 2xx to the creation call completes it: tenants go live without a report.
    provisioning: { mode: 'response' },
  });
  if (created.status !== 201) throw new Error(`product: ${created.status} ${created.text}`);
  const product = created.body.data;
  const http = createOutboundHttp({ egress: createEgressPolicy(['127.0.0.1']) });
  const { db, box } = landlord.node.services;
  const deps = (nodeId: string, client = http): ProberDeps => ({
    db,
    box,
    clock,
    http: client,
    nodeId,
    concurrency: 64,
    perProduct: 64,
    perHost: 32,
    // A failed write must fail the test, not be logged and retried.
    onError: (error: unknown) => {
      throw error;
    },
  });

  const rig: HealthRig = {
    landlord,
    backend,
    clock,
    http,
    product,
    apiKey,
    answers,
    deps,
    async liveTenant(prefix = 'h', productName = product.name) {
      const name = uniqueName(prefix);
      const response = await landlord.admin.post('/v1/tenants', { product: productName, name, displayName: name });
      if (response.status !== 201) throw new Error(`tenant: ${response.status} ${response.text}`);
      await eventually(
        async () => ((await landlord.admin.get(`/v1/tenants/${name}`)).body.data.status === 'created_as_active' ? true : undefined),
        10_000,
        `${name} live`,
      );
      return { id: response.body.data.id, name };
    },
    round: (nodeId = 'node-a') => runProbeRound(deps(nodeId)),
    async probeNext(name, nodeId) {
      clock.set(await rig.nextProbeAt(name));
      return rig.round(nodeId);
    },
    health: async (name) => (await landlord.admin.get(`/v1/tenants/${name}`)).body.data.health,
    async watched(name) {
      const health = await rig.health(name);
      if (!health) throw new Error(`${name} is not watched`);
      return health;
    },
    healthChecks: (name) => backend.requests.filter((request) => request.path === `/api/integration/${name}/health-status`),
    unavailableCalls: (name) => backend.requests.filter((request) => request.path === `/api/integration/${name}/unavailable`),
    async nextProbeAt(name) {
      const { rows } = await sql<{ next_probe_at: Date }>`
        select h.next_probe_at from tenant_health h join tenants t on t.id = h.tenant_id where t.name = ${name}`.execute(db);
      if (!rows[0]) throw new Error(`${name} has no health row`);
      return rows[0].next_probe_at;
    },
    async close() {
      await landlord.close();
      await backend.close();
      await http.close();
    },
  };
  return rig;
}
