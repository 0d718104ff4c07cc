import { readFileSync } from 'node:fs';
import { adminQuery } from './database.ts';

// USER_HZ: /proc reports CPU time in clock ticks of 1/100 s on Linux.
const TICK_MS = 10;

/** CPU time (user + system, ms) a process has used so far; 0 when it is gone. */
export function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at ") ".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return 0;
  }
}

/** The pids of the PostgreSQL backends connected to `database` (the server is on this machine). */
export async function backendPids(database: string): Promise<number[]> {
  const rows = await adminQuery<{ pid: number }>('select pid from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [
    database,
  ]);
  return rows.map((row) => row.pid);
}

/** CPU used between `start()` and `stop()` by some processes and by the backends of one database. */
export interface CpuWindow {
  stop(): Promise<{ processMs: Record<string, number>; postgresMs: number; benchMs: number; wallMs: number }>;
}

/**
 * Starts measuring the CPU of the named processes, of PostgreSQL's backends for
 * `database` (those present at the start or the end), and of the bench itself.
 */
export async function measureCpu(processes: Record<string, number>, database: string): Promise<CpuWindow> {
  const startedAt = Date.now();
  const before = Object.fromEntries(Object.entries(processes).map(([name, pid]) => [name, cpuMsOf(pid)]));
  const backendsBefore = new Map((await backendPids(database)).map((pid) => [pid, cpuMsOf(pid)]));
  const benchBefore = process.cpuUsage();
  return {
    async stop() {
      const benchUsage = process.cpuUsage(benchBefore);
      const processMs = Object.fromEntries(Object.entries(processes).map(([name, pid]) => [name, cpuMsOf(pid) - (before[name] ?? 0)]));
      let postgresMs = 0;
      for (const pid of new Set([...backendsBefore.keys(), ...(await backendPids(database))])) {
        const now = cpuMsOf(pid);
        if (now > 0) postgresMs += now - (backendsBefore.get(pid) ?? 0);
      }
      return { processMs, postgresMs, benchMs: (benchUsage.user + benchUsage.system) / 1000, wallMs: Date.now() - startedAt };
    },
  };
}

/**
 * Transactions committed or rolled back in `database` so far (each statement outside a transaction is one).
 * PostgreSQL publishes these counts about once a second: read them a second and more after the work.
 */
export async function transactionsIn(database: string): Promise<number> {
  const [row] = await adminQuery<{ count: string }>(
    'select xact_commit + xact_rollback as count from pg_stat_database where datname = $1',
    [database],
  );
  return Number(row?.count ?? 0);
}
