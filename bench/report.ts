import { readFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { adminQuery, freeConnections } from './database.ts';
import { NODE, ROOT } from './processes.ts';

/** Where every run appends its section. */
export const RESULTS_FILE = join(ROOT, 'bench', 'RESULTS.md');

/** One aim of a scenario and whether this run met it. */
export interface Aim {
  what: string;
  met: boolean;
  /** A plain sentence saying why, when missed. */
  why?: string;
}

/** The part of RESULTS.md one scenario contributes. */
export interface ScenarioReport {
  name: string;
  markdown: string;
  aims: Aim[];
}

/** The machine the numbers come from. */
export async function describeMachine(): Promise<string> {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  const memory = `${(totalmem() / 1024 ** 3).toFixed(1)} GiB`;
  const [pg] = await adminQuery<{ server_version: string; shared_buffers: string; autovacuum: string }>(
    `select current_setting('server_version') as server_version, current_setting('shared_buffers') as shared_buffers,
       current_setting('autovacuum') as autovacuum`,
  );
  const connections = await freeConnections();
  const load = loadavg()
    .map((value) => value.toFixed(1))
    .join(' / ');
  return [
    `- **CPU**: ${cpu}, ${availableParallelism()} cores · **memory** ${memory} · **OS** ${osName()} (Linux ${release()})`,
    `- **Node** ${process.version} (\`${NODE.slice(ROOT.length + 1)}\`) · **PostgreSQL** ${pg?.server_version ?? '?'} at 127.0.0.1 (${connections.free} of ${connections.max} connections free at start; shared_buffers ${pg?.shared_buffers ?? '?'}, autovacuum ${pg?.autovacuum ?? '?'}) · load average at start ${load}`,
    `- The load generator, every server and PostgreSQL share these ${availableParallelism()} cores (and so do other test runs on this machine), so ratios measured back to back are more telling than absolute numbers.`,
  ].join('\n');
}

function osName(): string {
  try {
    const match = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'));
    return match?.[1] ?? 'Linux';
  } catch {
    return 'Linux';
  }
}

/** A Markdown table. */
export function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** The dated section of one bench run. */
export function section(date: Date, machine: string, reports: ScenarioReport[], notes: string[]): string {
  const stamp = `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  const aims = reports.flatMap((report) => report.aims.map((aim) => ({ ...aim, scenario: report.name })));
  const summary = aims.length
    ? table(
        ['Scenario', 'Aim', 'Result'],
        aims.map((aim) => [aim.scenario, aim.what, aim.met ? 'met' : `**missed** — ${aim.why ?? ''}`]),
      )
    : '';
  return [
    `## ${stamp} — ${reports.map((report) => report.name).join(', ')}`,
    '',
    machine,
    ...notes.map((note) => `- ${note}`),
    '',
    summary,
    '',
    ...reports.map((report) => report.markdown),
    '',
  ].join('\n');
}

/** Appends a section to RESULTS.md (created with a heading the first time). */
export async function appendResults(markdown: string): Promise<void> {
  let existing = '';
  try {
    existing = readFileSync(RESULTS_FILE, 'utf8');
  } catch {
    // first run
  }
  const heading = existing
    ? ''
    : '# Landlord bench results\n\nAppended by `npm run bench`; newest last. See `bench/README.md` for what each number means.\n\n';
  await appendFile(RESULTS_FILE, `${heading}${existing && !existing.endsWith('\n\n') ? '\n' : ''}${markdown}\n`);
}
