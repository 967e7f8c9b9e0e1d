import type { InvocationFault, InvocationFaults } from '#local/lambda/runtime.ts';
import type { FaultPlan } from '#local/chaos/fault-plan.ts';

/**
 * What the region's Lambda runtime asks before each invocation: whether this delivery is to crash after its effects,
 * crash halfway through its batch, or (a deliberately broken build) be acknowledged without being run.
 */

interface BatchEvent {
  Records?: unknown[];
  messages?: unknown[];
}

export function invocationFaultsOf(plan: FaultPlan): InvocationFaults {
  return (functionName: string, event: unknown): InvocationFault | undefined => {
    const items = itemsOf(event);
    const key = deliveryKey(items);
    if (plan.strikes('skip-batch', functionName)) return { skip: true };
    if (items && items.list.length >= 2 && plan.strikesOnce('crash-mid-batch', functionName, key)) {
      const half = items.list.slice(0, Math.ceil(items.list.length / 2));
      return { event: { ...(event as object), [items.field]: half }, crashAfter: 'crash-mid-batch' };
    }
    if (plan.strikesOnce('crash-after-effects', functionName, key)) return { crashAfter: 'crash-after-effects' };
    return undefined;
  };
}

function itemsOf(event: unknown): { field: 'Records' | 'messages'; list: unknown[] } | undefined {
  const batch = (event ?? {}) as BatchEvent;
  if (Array.isArray(batch.Records)) return { field: 'Records', list: batch.Records };
  if (Array.isArray(batch.messages)) return { field: 'messages', list: batch.messages };
  return undefined;
}

/** The first record's identity and the batch size: a redelivery of the same batch has the same key. */
function deliveryKey(items: { list: unknown[] } | undefined): string {
  if (!items || items.list.length === 0) return 'no-records';
  const first = items.list[0] as { kinesis?: { sequenceNumber?: string }; messageID?: string; messageId?: string };
  return `${first.kinesis?.sequenceNumber ?? first.messageID ?? first.messageId ?? JSON.stringify(first).slice(0, 200)}|${items.list.length}`;
}
