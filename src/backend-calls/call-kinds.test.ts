import { describe, expect, it } from 'vitest';
import { WEBHOOK_EVENTS } from '../products/products.schemas.ts';
import { callKinds } from './call-kinds.ts';
import { reportDeadlineSweep } from './report-deadlines.ts';

describe('the call kind registry', () => {
  it('names each kind once and points each at a product URL', () => {
    const kinds = callKinds();
    for (const [name, kind] of kinds) {
      expect(kind.name).toBe(name);
      expect(WEBHOOK_EVENTS).toContain(kind.url);
    }
    expect([...kinds.keys()]).toEqual(expect.arrayContaining(['creation', 'activation', 'deactivation', 'deletion', 'unavailable']));
  });

  it('runs a deadline shared by several kinds once per pass', async () => {
    let runs = 0;
    const deadline = {
      name: 'shared',
      sweepOverdue: async () => {
        runs++;
        return 3;
      },
    };
    const kinds = [...callKinds().values()].map((kind) => ({ ...kind, deadline }));
    const sweep = reportDeadlineSweep({ db: undefined as never, clock: undefined as never, intervalMs: 1000, kinds });
    expect(await sweep.sweepOnce()).toBe(3);
    expect(runs).toBe(1);
  });
});
