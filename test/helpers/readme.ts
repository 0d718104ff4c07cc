import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The `sh` blocks of a README section (`## heading`, up to the next `## `), in order. */
export async function readmeBlocks(heading: string): Promise<string[]> {
  const readme = await readFile(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
  const start = readme.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`no section "${heading}" in README.md`);
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');
  if (blocks.length === 0) throw new Error(`no sh block under "${heading}"`);
  return blocks;
}

/** A bash session that runs README blocks as a reader pastes them: one after another, variables kept. */
export interface ReadmeShell {
  /** Runs one block; resolves with each answer it printed (one JSON document a line), parsed. */
  run(block: string): Promise<unknown[]>;
  close(): void;
}

const DONE = '__readme_block_done__';

/**
 * Starts `bash` with only `env` (and PATH), `set -e`, and `curl` printing a newline after each
 * answer, so every answer is a line of its own. A failing command ends the session: `run` rejects
 * with what bash said.
 */
export function startReadmeShell(env: Record<string, string>): ReadmeShell {
  const bash: ChildProcessWithoutNullStreams = spawn('bash', [], { env: { PATH: process.env.PATH ?? '', ...env } });
  let stdout = '';
  let stderr = '';
  let exited: string | undefined;
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const waiter of waiters) waiter();
  };
  bash.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
    wake();
  });
  bash.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  bash.on('exit', (code) => {
    exited = `bash exited with ${code}: ${stderr.trim()}`;
    wake();
  });
  bash.stdin.write(`set -e\ncurl() { command curl -w '\\n' "$@"; }\n`);

  return {
    async run(block) {
      stdout = '';
      bash.stdin.write(`${block}\necho ${DONE}\n`);
      await new Promise<void>((resolve, reject) => {
        const check = () => {
          if (stdout.includes(`${DONE}\n`)) {
            waiters.delete(check);
            resolve();
          } else if (exited) {
            waiters.delete(check);
            reject(new Error(`${exited}\nwhile running:\n${block}`));
          }
        };
        waiters.add(check);
        check();
      });
      return stdout
        .slice(0, stdout.indexOf(DONE))
        .split('\n')
        .filter((line) => line.trim())
        .map((line) => {
          try {
            return JSON.parse(line);
          } catch {
            throw new Error(`not a JSON answer: ${line}\nwhile running:\n${block}`);
          }
        });
    },
    close() {
      if (!exited) bash.kill();
    },
  };
}

/**
 * The fields a block shows as answers: in its comments, after `→` up to a `; ` (and on the comment lines below
 * that carry on its JSON), every `"key":value` whose value is a number, true, false, null or a whole string
 * (one with `…` in it is left out).
 */
export function shownFields(block: string): [string, unknown][] {
  const shown: string[] = [];
  let inAnswer = false;
  for (const line of block.split('\n')) {
    const comment = /(?:^|\s)#(\s.*)$/.exec(line)?.[1] ?? '';
    const arrow = comment.indexOf('→');
    if (arrow >= 0) shown.push(comment.slice(arrow + 1).split('; ')[0] ?? '');
    else if (inAnswer && /^\s{3,}[[{"]/.test(comment) && line.trimStart().startsWith('#')) shown.push(comment);
    inAnswer = arrow >= 0 || (inAnswer && line.trimStart().startsWith('#'));
  }
  return [...shown.join('\n').matchAll(/"(\w+)"\s*:\s*(-?\d+(?:\.\d+)?|true|false|null|"[^"…]*")/g)].map(
    (match) => [match[1] ?? '', JSON.parse(match[2] ?? 'null')] as [string, unknown],
  );
}

/** Whether `key` has `value` anywhere in `answer`, at any depth. */
export function hasField(answer: unknown, key: string, value: unknown): boolean {
  if (Array.isArray(answer)) return answer.some((item) => hasField(item, key, value));
  if (!answer || typeof answer !== 'object') return false;
  return Object.entries(answer).some(([name, inner]) => (name === key && inner === value) || hasField(inner, key, value));
}
