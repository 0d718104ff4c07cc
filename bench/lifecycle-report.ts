import type { Burst, Idle, LifecycleOptions, Paced } from './lifecycle.ts';
import type { Flow } from './lifecycle-ceiling.ts';
import type { LifecycleTrips } from './lifecycle-diagnosis.ts';
import { type Aim, type ScenarioReport, table } from './report.ts';
import { fmt, ratio } from './stats.ts';

const THROUGHPUT_AIM = 0.5;
const PACED_P99_AIM_MS = 100;

/** The bare worker run another way. */
export interface Variant {
  label: string;
  flow: Flow;
}

/** What the lifecycle scenario measured. */
export interface LifecycleResults {
  ceiling: Flow;
  /** The bare worker with named queues: Landlord's way first. */
  variants: Variant[];
  burst: Burst;
  paced: Paced;
  idle: Idle;
  trips: LifecycleTrips;
  concurrency: number;
}

/** The lifecycle scenario's part of RESULTS.md. */
export function reportLifecycle(options: LifecycleOptions, results: LifecycleResults): ScenarioReport {
  const { ceiling, variants, burst, paced, trips } = results;
  const throughputRatio = burst.perSecond / ceiling.perSecond;
  const throughputMet = throughputRatio >= THROUGHPUT_AIM;
  const pacedMet = paced.latency.p99 < PACED_P99_AIM_MS;
  const row = (label: string, pick: (flow: Flow) => number, digits: number, aim = '', met?: boolean) => [
    label,
    fmt(pick(burst), digits),
    fmt(pick(ceiling), digits),
    ratio(pick(burst), pick(ceiling)),
    aim,
    met === undefined ? '' : met ? 'met' : '**missed**',
  ];
  const totalTrips = trips.post + trips.job + trips.report;
  const aims: Aim[] = [
    {
      what: `${fmt(options.tenants, 0)} tenants to created_as_active ≥ ${THROUGHPUT_AIM}× the ceiling's throughput (${throughputRatio.toFixed(2)}×)`,
      met: throughputMet,
      why: whyThroughput(results, totalTrips),
    },
    {
      what: `p99 commit → creation call < ${PACED_P99_AIM_MS} ms at ${paced.offered} tenants/s (${fmt(paced.latency.p99, 0)} ms)`,
      met: pacedMet,
      why: whyPaced(results),
    },
  ];
  const markdown = [
    `### lifecycle — ${fmt(options.tenants, 0)} tenants, ${options.inFlight} POSTs in flight; then ${paced.offered} tenants/s for ${options.pacedSeconds} s`,
    '',
    `Landlord: worker concurrency ${results.concurrency} (the default), callback mode, creation sent at once; the simulator (\`bench/simulator.ts\`) answers 200 and at once reports \`created\` through the RoSaaS API with a client token. Throughput counts from the first POST until every tenant is \`created_as_active\`; latency is \`tenants.created_at\` → the creation call's arrival at the simulator. Ceiling: \`bench/bare-worker.ts\` (graphile-worker \`run()\`, same concurrency, same undici settings) working off ${fmt(options.tenants, 0)} jobs added in one statement, each one POST to the simulator; latency from that commit.`,
    '',
    table(
      ['Measure', 'Landlord', 'Ceiling (bare worker)', 'Landlord / ceiling', 'Aim', 'Result'],
      [
        row('Throughput, tenants (jobs) / s', (flow) => flow.perSecond, 1, `≥ ${THROUGHPUT_AIM}×`, throughputMet),
        row(`Time for all ${fmt(options.tenants, 0)}, s`, (flow) => flow.seconds, 1),
        row('Commit → call p50, ms', (flow) => flow.latency.p50, 0),
        row('Commit → call p99, ms', (flow) => flow.latency.p99, 0),
        row('Node CPU per tenant (job), µs', (flow) => flow.workerUs, 0),
        row('PostgreSQL CPU per tenant (job), µs', (flow) => flow.postgresUs, 0),
      ],
    ),
    '',
    'What graphile-worker named queues cost — the same bare worker and jobs, queued otherwise:',
    '',
    table(
      ['Bare worker with', 'Jobs / s', 'vs no named queue', 'Commit → call p99, ms', 'Node CPU per job, µs', 'PostgreSQL CPU per job, µs'],
      [{ label: 'no named queue (the ceiling)', flow: ceiling }, ...variants].map(({ label, flow }) => [
        label,
        fmt(flow.perSecond, 0),
        ratio(flow.perSecond, ceiling.perSecond),
        fmt(flow.latency.p99, 0),
        fmt(flow.workerUs, 0),
        fmt(flow.postgresUs, 0),
      ]),
    ),
    '',
    `The ${fmt(options.tenants, 0)} POSTs took ${fmt(burst.postSeconds, 1)} s (p50 ${fmt(burst.api.p50, 0)} ms, p99 ${fmt(burst.api.p99, 0)} ms each); the rest is the queue draining. graphile-worker's queue table then held ${fmt(burst.queueRows, 0)} named queues.${burst.reportsFailed ? ` ${burst.reportsFailed} reports failed after 5 attempts.` : ''} Node CPU for Landlord is its one process (API and worker); the simulator's CPU is not counted on either side.`,
    '',
    table(
      ['Paced run', 'Value'],
      [
        ['Offered / achieved rate, tenants/s', `${fmt(paced.offered, 0)} / ${fmt(paced.achieved, 1)}`],
        ['POST latency p50 / p99, ms', `${fmt(paced.api.p50, 1)} / ${fmt(paced.api.p99, 1)}`],
        ['Commit → call p50 / p99 / max, ms', `${fmt(paced.latency.p50, 0)} / ${fmt(paced.latency.p99, 0)} / ${fmt(paced.latency.max, 0)}`],
        ['Last call after the last POST answered, ms', fmt(paced.drainMs, 0)],
        [`Aim: p99 < ${PACED_P99_AIM_MS} ms`, pacedMet ? 'met' : '**missed**'],
      ],
    ),
    '',
    `Idle afterwards (5 s, nothing to do, ${fmt(results.idle.queueRows, 0)} named queues in graphile-worker's table): Landlord used ${fmt(results.idle.landlordShare * 100, 1)}% of a core and its PostgreSQL backends ${fmt(results.idle.postgresShare * 100, 1)}%. An idle worker node makes ${fmt(trips.workerIdlePerSecond, 0)} round trips a second; in 2 s: ${trips.workerIdleStatements.map(([statement, count]) => `${statement} ×${count}`).join(', ') || 'nothing'}.`,
    '',
    `Round trips to PostgreSQL per tenant (one at a time, through \`bench/pg-counter.ts\`, API and worker as separate nodes): **${fmt(totalTrips, 1)}** — POST ${fmt(trips.post, 1)}, call job ${fmt(trips.job, 1)} (graphile-worker's own queries included), report ${fmt(trips.report, 1)}.`,
    '',
    `API node, one tenant (POST, then the report): ${trips.apiStatements.join(' → ') || '–'}.`,
    '',
    `Worker node while that tenant went through (background included): ${trips.workerStatements.map(([statement, count]) => `${statement} ×${count}`).join(', ') || '–'}.`,
    '',
  ].join('\n');
  return { name: 'lifecycle', markdown, aims };
}

function whyThroughput({ ceiling, variants, burst, trips }: LifecycleResults, totalTrips: number): string {
  const [perJob, ...others] = variants;
  const queues = perJob
    ? ` What graphile-worker named queues cost, on the bare worker: a queue per job takes it from ${fmt(ceiling.perSecond, 0)} to ${fmt(perJob.flow.perSecond, 0)} jobs/s and from ${fmt(ceiling.postgresUs, 0)} to ${fmt(perJob.flow.postgresUs, 0)} µs of PostgreSQL CPU per job, because a job fetch locks every available queue row; ${others.map(({ label, flow }) => `with ${label}, ${fmt(flow.perSecond, 0)} jobs/s`).join('; ')}. Landlord's queue table held ${fmt(burst.queueRows, 0)} named queues after this burst.${fetchCost(trips)}`
    : '';
  const fetches =
    trips.idleFetchesPerSecond > 1
      ? `; graphile-worker fetches jobs more often than it finds one: every add_job wakes an idle worker, and even with nothing to do a worker node fetched ${fmt(trips.idleFetchesPerSecond, 0)} times a second (each of its workers polls on its own)`
      : '';
  return `each tenant costs ${fmt(totalTrips, 0)} round trips to PostgreSQL (POST ${fmt(trips.post, 0)}, call job ${fmt(trips.job, 0)}, report ${fmt(trips.report, 0)}${fetches}) and ${fmt(burst.workerUs, 0)} µs of Landlord CPU plus ${fmt(burst.postgresUs, 0)} µs of PostgreSQL CPU, against ${fmt(ceiling.workerUs, 0)} µs + ${fmt(ceiling.postgresUs, 0)} µs for a bare job; on 2 shared cores that work, not the calls, sets the pace.${queues}`;
}

function whyPaced({ burst, paced }: LifecycleResults): string {
  if (burst.perSecond < paced.offered) {
    return `Landlord's sustained rate (${fmt(burst.perSecond, 0)} tenants/s in the burst) is below the ${paced.offered}/s offered, so calls queue up behind each other (the last one arrived ${fmt(paced.drainMs, 0)} ms after the last POST).`;
  }
  return `the worker keeps up on average (${fmt(burst.perSecond, 0)} tenants/s in the burst) but falls behind in bursts: p50 is ${fmt(paced.latency.p50, 0)} ms and the last call arrived ${fmt(paced.drainMs, 0)} ms after the last POST.`;
}

function fetchCost(trips: LifecycleTrips): string {
  const fetch = trips.jobFetch;
  if (!fetch) return '';
  return ` At the end, with one job due, one fetch took ${fmt(fetch.ms, 1)} ms in PostgreSQL and locked ${fmt(fetch.lockedRows, 0)} rows, with ${fmt(fetch.queues, 0)} named queues and these jobs waiting: ${fetch.jobs.map(([task, count]) => `${task} ${fmt(count, 0)}`).join(', ') || 'none'}.${fetch.jobs.some(([task]) => task === 'tenant.report_timeout') ? ' A report deadline (`tenant.report_timeout`, due an hour later) stays queued after the report arrived.' : ''}`;
}
