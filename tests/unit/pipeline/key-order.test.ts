import { describe, expect, it } from 'vitest';
import { EarlierRecordFailedError, KeyOrder } from '#shared/pipeline/key-order.ts';
import { UnknownTradeError } from '#shared/pipeline/matching-stage.ts';

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

describe('KeyOrder', () => {
  it('runs different keys side by side and one key in order', async () => {
    // Prepare
    const order = new KeyOrder();
    const events: string[] = [];
    const first = gate();

    // Act
    const a1 = order.run('A', async () => {
      await first.opened;
      events.push('A1');
    });
    const a2 = order.run('A', async () => void events.push('A2'));
    const b1 = order.run('B', async () => void events.push('B1'));
    await b1;
    const beforeRelease = [...events];
    first.open();
    await Promise.all([a1, a2]);

    // Assess
    expect(beforeRelease).toEqual(['B1']);
    expect(events).toEqual(['B1', 'A1', 'A2']);
  });

  it('fails the later records of a key whose earlier record failed, without running them', async () => {
    // Prepare
    const order = new KeyOrder();
    let laterRan = false;

    // Act
    const earlier = order.run('A', async () => {
      throw new Error('store unavailable');
    });
    const later = order.run('A', async () => {
      laterRan = true;
    });
    const other = order.run('B', async () => 'done');

    // Assess
    await expect(earlier).rejects.toThrow('store unavailable');
    await expect(later).rejects.toBeInstanceOf(EarlierRecordFailedError);
    await expect(other).resolves.toBe('done');
    expect(laterRan).toBe(false);
  });

  it('lets later records of a key overtake an earlier one whose failure is overtakable (a result waiting for its trade)', async () => {
    // Prepare
    const order = new KeyOrder();

    // Act
    const result = order.run('A', async () => {
      throw new UnknownTradeError('QAINS012-QAINS012-QABRO010-4821937', 'QAINS012-QAINS012-QABRO010-4821937-1');
    });
    const leg = order.run('A', async () => 'leg stored');

    // Assess
    await expect(result).rejects.toBeInstanceOf(UnknownTradeError);
    await expect(leg).resolves.toBe('leg stored');
  });
});
