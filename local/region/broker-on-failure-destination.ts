import type { KinesisOnFailureRecord, OnFailureDestination } from '#local/event-sources/on-failure-destination.ts';
import type { MessageBroker } from '#shared/ports/message-broker.ts';

/**
 * The twin's stand-in for an SQS on-failure destination: a durable queue of the region's broker, named after the
 * manifest's `sqs` queue. Each message is the invocation record Lambda would send to SQS (metadata only), so
 * replay reads the records back from the stream by sequence number. `send` resolves once the broker has the
 * message durably, which is what lets the mapping move past the records.
 */
export class BrokerOnFailureDestination implements OnFailureDestination {
  constructor(
    private readonly broker: MessageBroker,
    readonly queue: string,
  ) {}

  async send(record: KinesisOnFailureRecord): Promise<void> {
    await this.broker.send(this.queue, JSON.stringify(record), {
      'content-type': 'application/json',
      'rotor-condition': record.requestContext.condition,
      'rotor-function-arn': record.requestContext.functionArn,
    });
  }
}
