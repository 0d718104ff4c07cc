import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isAlive } from './embedded.ts';

/** What a running Landlord writes into its data directory's lock file. */
export interface LockInfo {
  pid: number;
  /** The embedded PostgreSQL port, once the server is up. */
  port?: number;
  startedAt: string;
}

/** Thrown when another live process holds the data directory. */
export class DataDirInUseError extends Error {
  override name = 'DataDirInUseError';
}

/** The lock of one data directory, held by this process until released. */
export interface DataDirLock {
  update(info: Partial<LockInfo>): Promise<void>;
  release(): Promise<void>;
}

const lockPath = (dataDir: string) => join(dataDir, 'landlord.lock');

/**
 * Takes the data directory for this process. A lock left by a process that no longer
 * runs is taken over; a lock held by a live process is refused with a message that
 * names it. The exclusive create makes two simultaneous starts resolve to one winner.
 */
export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  // Parent folders get the usual mode; only the data directory itself is private.
  await mkdir(dirname(dataDir), { recursive: true });
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const file = lockPath(dataDir);
  const info: LockInfo = { pid: process.pid, startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await createComplete(file, JSON.stringify(info));
      return {
        update: async (more) => replaceComplete(file, JSON.stringify(Object.assign(info, more))),
        release: async () => rm(file, { force: true }),
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = await readLock(dataDir);
      if (holder && holder.pid !== process.pid && isAlive(holder.pid)) {
        throw new DataDirInUseError(
          `Another Landlord process (pid ${holder.pid}, started ${holder.startedAt}) is using the data directory ${dataDir}. ` +
            'Stop it first, or give this one its own LANDLORD_DATA_DIR.',
        );
      }
      await rm(file, { force: true });
    }
  }
  throw new DataDirInUseError(`Another process took the data directory ${dataDir} at the same moment; try again`);
}

/** Reads the lock file of a data directory, or `undefined` when there is none. */
export async function readLock(dataDir: string): Promise<LockInfo | undefined> {
  try {
    return JSON.parse(await readFile(lockPath(dataDir), 'utf8')) as LockInfo;
  } catch {
    return undefined;
  }
}

// The lock file never exists without its content: a reader that found it empty or half
// written would take it for a stale lock, remove it, and two processes would both hold
// the directory. So the content is written to a private file first, then put in place
// by `link` (fails when the lock exists) or `rename` (replaces it), both atomic.
const scratchPath = (file: string) => `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;

async function createComplete(file: string, content: string): Promise<void> {
  const scratch = scratchPath(file);
  await writeFile(scratch, content, { mode: 0o600 });
  try {
    await link(scratch, file);
  } finally {
    await rm(scratch, { force: true });
  }
}

async function replaceComplete(file: string, content: string): Promise<void> {
  const scratch = scratchPath(file);
  await writeFile(scratch, content, { mode: 0o600 });
  await rename(scratch, file);
}
