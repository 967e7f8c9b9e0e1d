import { z } from 'zod';

/**
 * The faults a region process injects into its own data path, as data: which failure, where (functions, streams,
 * queues, emulator operations), how often, and until when. The region holds one plan; its Lambda runtime, its
 * kinesalite and dynalite fronts and its embedded broker consult it on every invocation, request and send. The
 * chaos controller fills it through the region's status server (`/chaos/faults`). Every fault expires on its own, so
 * a controller that dies mid-experiment never leaves a region broken for good.
 */

export const REGION_FAULT_KINDS = [
  /** The handler runs to the end (its safe-store writes and forwards happen), then the invocation fails. */
  'crash-after-effects',
  /** The handler processes the first half of the batch, then the invocation fails: the whole batch comes back. */
  'crash-mid-batch',
  /** A PutRecord(s) that kinesalite stored is sent again: the stream holds the records twice (a producer retry). */
  'duplicate-put',
  /** A message the broker stored is stored again: the queue holds it twice (a client resend after a lost receipt). */
  'duplicate-send',
  /** Kinesis answers ProvisionedThroughputExceededException instead of serving the request. */
  'throttle-kinesis',
  /** DynamoDB answers ProvisionedThroughputExceededException instead of serving the request. */
  'throttle-dynamodb',
  /** Deliberately broken: the invocation succeeds without running the handler, so the batch is checkpointed unseen. */
  'skip-batch',
] as const;

export type RegionFaultKind = (typeof REGION_FAULT_KINDS)[number];

export const regionFaultSchema = z.strictObject({
  id: z.string().min(1).max(100),
  kind: z.enum(REGION_FAULT_KINDS),
  /** Function names, stream names, queue names or API operations the fault applies to; empty = every one. */
  targets: z.array(z.string().min(1)).max(100).default([]),
  /** Chance that one eligible invocation, request or send is hit. */
  probability: z.number().min(0).max(1).default(1),
  /** Epoch milliseconds after which the fault no longer applies. */
  expiresAt: z.number().int().positive(),
});

export type RegionFault = z.infer<typeof regionFaultSchema>;
export type RegionFaultInput = z.input<typeof regionFaultSchema>;

export class InvalidFaultError extends Error {
  override readonly name = 'InvalidFaultError';
}

export function parseRegionFault(input: unknown): RegionFault {
  const parsed = regionFaultSchema.safeParse(input);
  if (!parsed.success) throw new InvalidFaultError(`not a region fault: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || 'fault'}: ${issue.message}`).join('; ')}`);
  return parsed.data;
}

// Crash faults remember which deliveries they already failed, so a redelivered batch goes through: the failure is
// the crash, not a poison batch that would exhaust the mapping's retries.
const REMEMBERED_STRIKES = 10_000;

export class FaultPlan {
  private readonly faults = new Map<string, RegionFault>();
  private readonly struck = new Set<string>();
  private readonly counts = new Map<string, number>();

  constructor(
    private readonly random: () => number = Math.random,
    private readonly now: () => number = Date.now,
  ) {}

  add(fault: RegionFault): void {
    this.faults.set(fault.id, fault);
  }

  remove(id: string): boolean {
    return this.faults.delete(id);
  }

  clear(): void {
    this.faults.clear();
  }

  /** The faults still in force, with how often each struck. */
  list(): Array<RegionFault & { strikes: number }> {
    this.prune();
    return [...this.faults.values()].map((fault) => ({ ...fault, strikes: this.counts.get(fault.id) ?? 0 }));
  }

  /** Whether a fault of this kind hits `target` now (one draw per call). */
  strikes(kind: RegionFaultKind, target: string): boolean {
    const fault = this.matching(kind, target);
    if (!fault || this.random() >= fault.probability) return false;
    this.counted(fault.id);
    return true;
  }

  /**
   * As strikes, but at most once per delivery key (a batch's first record and size): the redelivery of a batch a
   * crash failed is let through.
   */
  strikesOnce(kind: RegionFaultKind, target: string, deliveryKey: string): boolean {
    const fault = this.matching(kind, target);
    if (!fault) return false;
    const key = `${fault.id}|${target}|${deliveryKey}`;
    if (this.struck.has(key) || this.random() >= fault.probability) return false;
    if (this.struck.size >= REMEMBERED_STRIKES) this.struck.delete(this.struck.values().next().value!);
    this.struck.add(key);
    this.counted(fault.id);
    return true;
  }

  private matching(kind: RegionFaultKind, target: string): RegionFault | undefined {
    if (this.faults.size === 0) return undefined;
    const now = this.now();
    for (const fault of this.faults.values()) {
      if (fault.expiresAt <= now) continue;
      if (fault.kind === kind && (fault.targets.length === 0 || fault.targets.includes(target))) return fault;
    }
    return undefined;
  }

  private counted(id: string): void {
    this.counts.set(id, (this.counts.get(id) ?? 0) + 1);
  }

  private prune(): void {
    const now = this.now();
    for (const [id, fault] of this.faults) if (fault.expiresAt <= now) this.faults.delete(id);
  }
}
