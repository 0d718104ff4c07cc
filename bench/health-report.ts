/** The health scenario's part of RESULTS.md: aims, the full round beside the ceiling, the steady interval. */
import { BASELINE_S, DEFAULTS, type HealthOptions, PER_HOST, TIMEOUT_S, type Window } from './health.ts';
import { type Aim, type ScenarioReport, table } from './report.ts';
import { fmt, ratio } from './stats.ts';

const ROUND_AIM_S = 60;
const RATE_AIM = 0.6;
const READ_P99_AIM_MS = 50;
/** CPU per probe, µs, from a share of one core and a rate. */
const perProbeUs = (share: number, perSecond: number) => (share * 1_000_000) / perSecond;

/** What the health scenario measured. */
export interface HealthResults {
  ceiling: { seconds: number; perSecond: number; cpu: number };
  burst: Window;
  steady: Window;
  /** The same reads before any probe was due. */
  idle: Window;
}

/** The health scenario's part of RESULTS.md. */
export function reportHealth(options: HealthOptions, { ceiling, idle, burst, steady }: HealthResults): ScenarioReport {
  const n = fmt(options.tenants, 0);
  const rateRatio = burst.perSecond / ceiling.perSecond;
  const roundMet = burst.seconds <= ROUND_AIM_S;
  const rateMet = rateRatio >= RATE_AIM;
  const readsMet = burst.reads.p99 < READ_P99_AIM_MS && steady.reads.p99 < READ_P99_AIM_MS;
  const cpuNote = `Landlord used ${fmt(burst.landlordCpu, 2)} of a core and its PostgreSQL backends ${fmt(burst.postgresCpu, 2)}`;
  const aims: Aim[] = [
    {
      what: `one full round of ${n} tenants within ${ROUND_AIM_S} s (${fmt(burst.seconds, 1)} s)`,
      met: roundMet,
      why: `${fmt(burst.perSecond, 0)} probes/s; ${cpuNote}, on 2 cores shared with the simulator.`,
    },
    {
      what: `probes/s ≥ ${RATE_AIM}× the bare undici loop (${rateRatio.toFixed(2)}×)`,
      met: rateMet,
      why: `per probe Landlord spent ${fmt(perProbeUs(burst.landlordCpu, burst.perSecond), 0)} µs of CPU and PostgreSQL ${fmt(perProbeUs(burst.postgresCpu, burst.perSecond), 0)} µs (a probe is two row updates: the claim and the write-back), against ${fmt(perProbeUs(ceiling.cpu, ceiling.perSecond), 0)} µs for the bare loop; with the simulator on the same 2 cores, that work sets the pace.`,
    },
    {
      what: `API reads p99 < ${READ_P99_AIM_MS} ms while probing (${fmt(burst.reads.p99, 1)} ms in the full round, ${fmt(steady.reads.p99, 1)} ms steady)`,
      met: readsMet,
      why: `reads share Landlord's event loop and the 2 cores with the prober, PostgreSQL and the simulator; with nothing due the same reads had p99 ${fmt(idle.reads.p99, 1)} ms on this machine at this time.`,
    },
  ];
  const row = (label: string, landlord: string, bare: string, versus: string, aim = '', met?: boolean) => [
    label,
    landlord,
    bare,
    versus,
    aim,
    met === undefined ? '' : met ? 'met' : '**missed**',
  ];
  const markdown = [
    `### health — ${n} live tenants, interval ${options.intervalSeconds} s, ${PER_HOST} probes at once per backend host`,
    '',
    `Tenants are seeded in SQL (status \`active\`, each with its health row) for one product whose health URL points at the simulator (\`bench/simulator.ts\`, answers 200). **Full round**: every tenant made due at once (as after a restart) and timed until every result is written back — Landlord's capacity. **Steady**: the next ${options.intervalSeconds} s, in which the probes are spread over the interval by tenant. Throughout, ${options.readRate} \`GET /v1/tenants/{name}\`/s of random tenants (open loop). Landlord runs its defaults: ${DEFAULTS.healthConcurrency} probes per node, ${DEFAULTS.healthPerProduct} per product, ${PER_HOST} per host. Ceiling: a bare undici loop in the bench process making the same ${n} GETs (URL, \`api-key\`, ${TIMEOUT_S} s timeout, same Agent settings) ${PER_HOST} at once, no database.`,
    '',
    table(
      ['Measure', 'Landlord', 'Ceiling (bare undici loop)', 'Landlord / ceiling', 'Aim', 'Result'],
      [
        row(
          'Full round, s',
          fmt(burst.seconds, 1),
          fmt(ceiling.seconds, 1),
          ratio(burst.seconds, ceiling.seconds),
          `≤ ${ROUND_AIM_S} s`,
          roundMet,
        ),
        row(
          'Probes / s',
          fmt(burst.perSecond, 0),
          fmt(ceiling.perSecond, 0),
          ratio(burst.perSecond, ceiling.perSecond),
          `≥ ${RATE_AIM}×`,
          rateMet,
        ),
        row('CPU, share of one core', fmt(burst.landlordCpu, 2), fmt(ceiling.cpu, 2), ratio(burst.landlordCpu, ceiling.cpu)),
        row('PostgreSQL CPU, share of one core', fmt(burst.postgresCpu, 2), '–', '–'),
        row('Peak resident memory, MiB', fmt(burst.peakRssMiB, 0), '–', '–'),
        row(
          'API read p50 / p99 / max, ms',
          `${fmt(burst.reads.p50, 1)} / ${fmt(burst.reads.p99, 1)} / ${fmt(burst.reads.max, 0)}`,
          '–',
          '–',
          `p99 < ${READ_P99_AIM_MS} ms`,
          burst.reads.p99 < READ_P99_AIM_MS,
        ),
      ],
    ),
    '',
    table(
      [`Steady interval (${options.intervalSeconds} s)`, 'Value'],
      [
        [
          'Probes / s (every tenant once per interval needs)',
          `${fmt(steady.perSecond, 0)} (${fmt(options.tenants / options.intervalSeconds, 0)})`,
        ],
        ['Tenants probed in the interval', `${fmt(steady.covered, 0)} of ${n}`],
        ['Landlord CPU / PostgreSQL CPU, share of one core', `${fmt(steady.landlordCpu, 2)} / ${fmt(steady.postgresCpu, 2)}`],
        ['Peak resident memory, MiB', fmt(steady.peakRssMiB, 0)],
        ['API read p50 / p99 / max, ms', `${fmt(steady.reads.p50, 1)} / ${fmt(steady.reads.p99, 1)} / ${fmt(steady.reads.max, 0)}`],
        [
          `API read p50 / p99 / max with nothing due (${BASELINE_S} s before), ms`,
          `${fmt(idle.reads.p50, 1)} / ${fmt(idle.reads.p99, 1)} / ${fmt(idle.reads.max, 0)}`,
        ],
        ['Landlord CPU with nothing due, share of one core', fmt(idle.landlordCpu, 2)],
      ],
    ),
    '',
  ].join('\n');
  return { name: 'health', markdown, aims: aims.map((aim) => (aim.met ? { what: aim.what, met: true } : aim)) };
}
