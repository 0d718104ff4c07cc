/**
 * Summarises a V8 CPU profile (`--cpu-prof`): self time by package or source file and
 * the hottest functions. `node bench/profile.ts FILE.cpuprofile [TOP]` prints it.
 */
import { readFileSync } from 'node:fs';
import { ROOT } from './processes.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time (ms) by where the code lives, and by function, busiest first; idle time left out. */
export interface ProfileSummary {
  busyMs: number;
  byPlace: [string, number][];
  byFunction: [string, number][];
}

/** Where a frame's code lives: a package, a Landlord source file, Node itself, or a V8 bucket such as (garbage collector). */
function placeOf(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native)';
  const path = url.replace(/^file:\/\//, '');
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (pkg) return pkg[1] as string;
  if (path.startsWith('node:')) return 'node (core)';
  return path.startsWith(ROOT) ? path.slice(ROOT.length + 1) : path;
}

/** Reads and summarises one profile. */
export function summariseProfile(file: string): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<number, number>();
  for (const [index, id] of profile.samples.entries()) self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0));
  const places = new Map<string, number>();
  const functions = new Map<string, number>();
  let busy = 0;
  for (const [id, micros] of self) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)' || functionName === '(program)') continue;
    busy += micros;
    const place = placeOf(url, functionName);
    places.set(place, (places.get(place) ?? 0) + micros);
    const fn = `${functionName || '(anonymous)'} ${place}:${lineNumber + 1}`;
    functions.set(fn, (functions.get(fn) ?? 0) + micros);
  }
  const sorted = (map: Map<string, number>) =>
    [...map].sort((a, b) => b[1] - a[1]).map(([key, micros]): [string, number] => [key, micros / 1000]);
  return { busyMs: busy / 1000, byPlace: sorted(places), byFunction: sorted(functions) };
}

/** The summary as a few lines of text. */
export function formatProfile(summary: ProfileSummary, top = 15): string {
  const share = (ms: number) => `${((ms / summary.busyMs) * 100).toFixed(1)}%`;
  return [
    `busy ${summary.busyMs.toFixed(0)} ms`,
    'by place:',
    ...summary.byPlace.slice(0, top).map(([place, ms]) => `  ${share(ms).padStart(6)}  ${place}`),
    'by function:',
    ...summary.byFunction.slice(0, top).map(([fn, ms]) => `  ${share(ms).padStart(6)}  ${fn}`),
  ].join('\n');
}

if (process.argv[1] === import.meta.filename && process.argv[2]) {
  console.log(formatProfile(summariseProfile(process.argv[2]), Number(process.argv[3] ?? 25)));
}
