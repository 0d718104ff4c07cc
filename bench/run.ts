/**
 * `npm run bench [-- SCENARIO… ] [--quick] [--profile] [--no-write]`
 *
 * Runs the chosen scenarios (default: all) on this machine against the PostgreSQL
 * server at BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres),
 * each in fresh databases it drops afterwards, with every server as its own child
 * process on 127.0.0.1, and appends a dated section to bench/RESULTS.md.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { runAccountApi } from './account-api.ts';
import { runApi } from './api.ts';
import { runConsole } from './console.ts';
import { closeAdmin, dropAll, waitForConnections } from './database.ts';
// usage
import { runEntitlements } from './entitlements.ts';
import { runEvents } from './events.ts';
import { runHealth } from './health.ts';
import { profiling } from './landlord.ts';
import { runLifecycle } from './lifecycle.ts';
import { runOidc } from './oidc.ts';
import { stopAll } from './processes.ts';
import { runRenewals } from './renewals.ts';
import { appendResults, describeMachine, RESULTS_FILE, type ScenarioReport, section } from './report.ts';
import { runRoomleRead } from './roomle.ts';
import { cleanupStartup, runStartup } from './startup.ts';
import { runUsage } from './usage.ts';
import { runVerify } from './verify.ts';

const SCENARIOS = [
  'api',
  'lifecycle',
  'events',
  'health',
  'startup',
  'verify',
  'oidc',
  'renewals',
  'usage',
  'entitlements',
  'console',
  'account-api',
  'roomle-read',
] as const;
type Scenario = (typeof SCENARIOS)[number];

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    quick: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    'no-write': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  console.log(`Usage: npm run bench -- [${SCENARIOS.join('|')} …] [--quick] [--profile] [--no-write]

  --quick     shorter runs and fewer tenants (a smoke test; numbers are not comparable)
  --profile   start Landlord with --cpu-prof (profiles in bench/.tmp/profiles; slows it down)
  --no-write  print the results instead of appending them to bench/RESULTS.md`);
  process.exit(0);
}

const unknown = positionals.filter((name) => !(SCENARIOS as readonly string[]).includes(name));
if (unknown.length) {
  console.error(`Unknown scenario ${unknown.join(', ')}; choose from ${SCENARIOS.join(', ')}.`);
  process.exit(2);
}
const chosen: Scenario[] = positionals.length ? SCENARIOS.filter((name) => positionals.includes(name)) : [...SCENARIOS];
profiling.enabled = values.profile;
const quick = values.quick;

let cleaning: Promise<void> | undefined;
const cleanup = () => {
  cleaning ??= (async () => {
    await stopAll();
    await dropAll();
    await closeAdmin();
    await cleanupStartup();
  })();
  return cleaning;
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    console.error(`\nbench: ${signal}, stopping the processes it started and dropping its databases…`);
    cleanup().finally(() => process.exit(130));
  });
}

const log = (line: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);

// A connection reset on some socket the bench does not await (a server it stopped, a
// backend that hung up) must not end a run of many minutes before anything is written:
// it is logged, and the scenario that needed the socket fails on its own time limit.
process.on('unhandledRejection', (error) =>
  log(`ignored an unhandled rejection: ${error instanceof Error ? error.message : String(error)}`),
);
process.on('uncaughtException', (error) => log(`ignored an uncaught exception: ${error.message}`));

/** Runs one scenario with its full or quick sizes. */
async function runOne(scenario: Scenario): Promise<ScenarioReport> {
  if (scenario === 'api') {
    return runApi(
      quick ? { seed: 2000, connections: 50, durationS: 3, warmupS: 1 } : { seed: 10_000, connections: 50, durationS: 10, warmupS: 2 },
      log,
    );
  } else if (scenario === 'lifecycle') {
    return runLifecycle(
      quick
        ? { tenants: 500, inFlight: 50, pacedRate: 100, pacedSeconds: 3 }
        : { tenants: 5000, inFlight: 50, pacedRate: 200, pacedSeconds: 10 },
      log,
    );
  } else if (scenario === 'events') {
    return runEvents(
      quick
        ? { events: 2000, endpoints: 5, pacedRate: 500, pacedSeconds: 3 }
        : { events: 20_000, endpoints: 5, pacedRate: 500, pacedSeconds: 10 },
      log,
    );
  } else if (scenario === 'health') {
    return runHealth(
      quick ? { tenants: 10_000, intervalSeconds: 10, readRate: 50 } : { tenants: 100_000, intervalSeconds: 60, readRate: 50 },
      log,
    );
  } else if (scenario === 'verify') {
    return runVerify(
      quick
        ? { credentials: 100, connections: 50, durationS: 3, warmupS: 1 }
        : { credentials: 100, connections: 50, durationS: 10, warmupS: 2 },
      log,
    );
  } else if (scenario === 'oidc') {
    return runOidc(
      quick ? { codes: 600, connections: 50, durationS: 3, warmupS: 1 } : { codes: 40_000, connections: 50, durationS: 10, warmupS: 2 },
      log,
    );
  } else if (scenario === 'usage') {
    return runUsage(
      quick
        ? { tenants: 20, batches: { 100: 100, 1000: 20 }, inFlight: 4 }
        : { tenants: 100, batches: { 100: 1000, 1000: 200 }, inFlight: 4 },
      log,
    );
  } else if (scenario === 'entitlements') {
    return runEntitlements(
      quick ? { tenants: 20, connections: 50, durationS: 3, warmupS: 1 } : { tenants: 100, connections: 50, durationS: 10, warmupS: 2 },
      log,
    );
  } else if (scenario === 'console') {
    return runConsole(
      quick ? { tenants: 10_000, requests: 100, concurrency: 1 } : { tenants: 100_000, requests: 400, concurrency: 1 },
      log,
    );
  } else if (scenario === 'account-api') {
    return runAccountApi(
      quick ? { groups: 100, connections: 50, durationS: 3, warmupS: 1 } : { groups: 500, connections: 50, durationS: 10, warmupS: 2 },
      log,
    );
  } else if (scenario === 'roomle-read') {
    return runRoomleRead(
      quick ? { tenants: 20, connections: 50, durationS: 3, warmupS: 1 } : { tenants: 100, connections: 50, durationS: 10, warmupS: 2 },
      log,
    );
  } else if (scenario === 'renewals') {
    const sized = Number(process.env.BENCH_RENEWALS) || undefined;
    return runRenewals({ subscriptions: sized ?? (quick ? 10_000 : 100_000), readRate: 20 }, log);
  } else {
    return runStartup({ restarts: quick ? 1 : 3 }, log);
  }
}

/**
 * Runs a scenario; when the shared PostgreSQL server ran out of connection slots (other
 * test runs), waits for room and tries again, twice at most. A scenario that still fails
 * is reported as failed and the others still run.
 */
async function runWithRetry(scenario: Scenario): Promise<ScenarioReport> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await runOne(scenario);
    } catch (error) {
      await stopAll();
      await dropAll();
      const message = error instanceof Error ? error.message : String(error);
      const crowded = /too many clients|53300|connections free/.test(message);
      if (crowded && attempt < 3) {
        log(`${scenario}: PostgreSQL ran out of connections (other test runs); waiting and trying again`);
        await waitForConnections(60, log, 300_000).catch(() => {});
        continue;
      }
      log(`${scenario} failed: ${message.split('\n')[0]}`);
      const why = `${crowded ? 'the shared PostgreSQL server had no free connections, ' : ''}${message.split('\n')[0]}`;
      return {
        name: scenario,
        markdown: `### ${scenario} — failed\n\n${why}\n`,
        aims: [{ what: 'the scenario ran to the end', met: false, why }],
      };
    }
  }
}

async function main(): Promise<void> {
  const date = new Date();
  const machine = await describeMachine();
  const reports: ScenarioReport[] = [];
  for (const scenario of chosen) {
    log(`${scenario}…`);
    const started = Date.now();
    reports.push(await runWithRetry(scenario));
    log(`${scenario} done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
  const notes = [
    `Load average at the end ${loadavg()
      .map((value) => value.toFixed(1))
      .join(' / ')}.`,
    ...(quick ? ['Run with `--quick`: shorter runs and fewer tenants, not comparable with full runs.'] : []),
    ...(profiling.enabled ? ['Run with `--profile`: Landlord ran under `--cpu-prof`, which slows it down.'] : []),
  ];
  const markdown = section(date, machine, reports, notes);
  if (values['no-write']) console.log(markdown);
  else {
    await appendResults(markdown);
    console.log(markdown);
    log(`appended to ${RESULTS_FILE}`);
  }
}

main()
  .catch((error) => {
    console.error('bench failed:', error);
    process.exitCode = 1;
  })
  .finally(() => cleanup());
