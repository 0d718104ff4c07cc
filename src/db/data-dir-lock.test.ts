import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataDirInUseError, lockDataDir, readLock } from './data-dir-lock.ts';

const NODE = join(import.meta.dirname, '../../node_modules/.bin/node');
const LOCK_MODULE = join(import.meta.dirname, 'data-dir-lock.ts');
// A contender: waits for the agreed moment, tries the lock, says how it went, and holds
// a lock it won until its stdin closes (so no loser can come late and win it again).
const CONTENDER = `
const { lockDataDir } = await import(process.argv[1]);
const at = Number(process.argv[3]);
while (Date.now() < at) {}
try {
  const lock = await lockDataDir(process.argv[2]);
  process.stdout.write('won\\n');
  process.stdin.resume();
  process.stdin.on('end', () => lock.release().then(() => process.exit(0)));
} catch (error) {
  process.stdout.write(error.name + ' ' + error.message + '\\n');
  process.exit(0);
}`;

const started: ChildProcess[] = [];
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'landlord-lock-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterAll(() => {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** Starts a contender and resolves with its pid and first line of output. */
function contend(at: number): { child: ChildProcess; said: Promise<string> } {
  const child = spawn(NODE, ['--input-type=module', '-e', CONTENDER, LOCK_MODULE, dir, String(at)], { stdio: ['pipe', 'pipe', 'inherit'] });
  started.push(child);
  let out = '';
  const said = new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (chunk) => {
      out += chunk;
      if (out.includes('\n')) resolve(out.trim());
    });
    child.on('exit', (code) => reject(new Error(`contender exited (${code}) without a word: ${out}`)));
  });
  return { child, said };
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', () => resolve()));
}

describe('lockDataDir', () => {
  it('lets exactly one of several processes starting at the same moment have the directory', async () => {
    for (let round = 0; round < 5; round++) {
      await rm(join(dir, 'landlord.lock'), { force: true });
      const at = Date.now() + 1000;
      const contenders = Array.from({ length: 6 }, () => contend(at));
      const said = await Promise.all(contenders.map((contender) => contender.said));
      const winners = contenders.filter((_, index) => said[index] === 'won');
      expect(winners, `round ${round}: ${said.join(' | ')}`).toHaveLength(1);
      const winner = winners[0]!.child.pid;
      expect((await readLock(dir))?.pid).toBe(winner);
      for (const line of said.filter((line) => line !== 'won')) {
        expect(line).toMatch(new RegExp(`^DataDirInUseError Another Landlord process \\(pid ${winner}, `));
      }
      for (const { child } of contenders) child.stdin?.end();
      await Promise.all(contenders.map(({ child }) => exited(child)));
    }
    expect(await readdir(dir)).toEqual([]);
  }, 60_000);

  it('refuses a directory a live process holds, naming that process and the directory', async () => {
    const lock = await lockDataDir(dir);
    try {
      const { child, said } = contend(0);
      const line = await said;
      await exited(child);
      expect(line).toBe(
        `DataDirInUseError Another Landlord process (pid ${process.pid}, started ${(await readLock(dir))?.startedAt}) is using the data directory ${dir}. ` +
          'Stop it first, or give this one its own LANDLORD_DATA_DIR.',
      );
    } finally {
      await lock.release();
    }
  });

  it('takes over the lock of a process that no longer runs', async () => {
    const gone = spawn(NODE, ['-e', '']);
    await exited(gone);
    await writeFile(join(dir, 'landlord.lock'), JSON.stringify({ pid: gone.pid, startedAt: '2020-01-01T00:00:00.000Z' }));
    const lock = await lockDataDir(dir);
    expect((await readLock(dir))?.pid).toBe(process.pid);
    await lock.release();
  });

  it('keeps the lock file whole through updates and removes it on release', async () => {
    const lock = await lockDataDir(dir);
    await lock.update({ port: 54321 });
    expect(await readLock(dir)).toEqual({ pid: process.pid, port: 54321, startedAt: expect.any(String) });
    expect(await readdir(dir)).toEqual(['landlord.lock']);
    await lock.release();
    expect(await readLock(dir)).toBeUndefined();
    expect(await readdir(dir)).toEqual([]);
  });

  it('is an error class of its own, for the CLI to print plainly', () => {
    expect(new DataDirInUseError('x').name).toBe('DataDirInUseError');
  });
});
