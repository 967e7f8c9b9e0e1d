import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { GeneratorLauncher } from '#shared/dashboard/aws-backend.ts';

/** Starts the region's generator function and returns at once (`InvocationType: Event`): a run lasts minutes. */
export class LambdaGeneratorLauncher implements GeneratorLauncher {
  readonly #clients = new Map<string, LambdaClient>();

  constructor(private readonly functionName: string) {}

  async launch(region: string, request: { rate: number; durationSeconds: number }): Promise<void> {
    let client = this.#clients.get(region);
    if (!client) this.#clients.set(region, (client = new LambdaClient({ region })));
    await client.send(new InvokeCommand({ FunctionName: this.functionName, InvocationType: 'Event', Payload: new TextEncoder().encode(JSON.stringify(request)) }));
  }
}
