import { describe, expect, it } from 'vitest';
import { callsPerLeg, normalizeEmulatorCalls } from '#local/bench/twin-probe.ts';

describe('emulator calls per leg', () => {
  it('reads per-operation counters, plain totals and {calls} entries; nothing else', () => {
    expect(normalizeEmulatorCalls({ kinesis: { PutRecords: 4, GetRecords: { calls: 9 } }, dynamodb: 12 })).toEqual({
      kinesis: { PutRecords: 4, GetRecords: 9 },
      dynamodb: { all: 12 },
    });
    expect(normalizeEmulatorCalls(undefined)).toBeUndefined();
    expect(normalizeEmulatorCalls('12')).toBeUndefined();
  });

  it('divides what both regions did between two snapshots by the legs, leaving out the bench\'s own batch reads', () => {
    // Prepare
    const before = { 'us-east-1': { dynamodb: { PutItem: 100, BatchGetItem: 5 }, kinesis: { PutRecords: 10 } } };
    const after = {
      'us-east-1': { dynamodb: { PutItem: 400, BatchGetItem: 50 }, kinesis: { PutRecords: 30, GetRecords: 50 } },
      'us-west-2': { dynamodb: { BatchWriteItem: 20 } },
    };

    // Act
    const calls = callsPerLeg(before, after, 100);

    // Assess
    expect(calls).toEqual({
      by_service: { dynamodb: 3.2, kinesis: 0.7 },
      by_region: { 'us-east-1': { dynamodb: { PutItem: 3 }, kinesis: { PutRecords: 0.2, GetRecords: 0.5 } }, 'us-west-2': { dynamodb: { BatchWriteItem: 0.2 } } },
    });
    expect(callsPerLeg(before, after, 0)).toBeNull();
  });
});
