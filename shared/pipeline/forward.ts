import type { StreamRecord } from '#domain/pipeline-messages.ts';
import type { StreamPublisher } from '#shared/ports/stream-publisher.ts';

/** One record a stage sends on to the next stage's stream. */
export interface Forward {
  readonly stream: string;
  readonly partitionKey: string;
  readonly record: StreamRecord;
}

/** Publishes forwards stream by stream, each stream's records in the order the stage produced them. */
export async function publishForwards(publisher: StreamPublisher, forwards: readonly Forward[]): Promise<void> {
  const byStream = new Map<string, Forward[]>();
  for (const forward of forwards) byStream.set(forward.stream, [...(byStream.get(forward.stream) ?? []), forward]);
  for (const [stream, entries] of byStream) {
    await publisher.publish(stream, entries.map((entry) => ({ partitionKey: entry.partitionKey, data: JSON.stringify(entry.record) })));
  }
}
