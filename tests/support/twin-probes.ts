import { connect } from 'node:net';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { TwinLayout } from '#local/controller/twin-layout.ts';

/** Small probes of a running twin from the outside, as a client in another process would see it. */

export const TWIN_CREDENTIALS = { accessKeyId: 'AKIDROTORTWIN', secretAccessKey: 'rotor-twin-secret' };

export function dynamoClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: TWIN_CREDENTIALS, maxAttempts: 1 });
}

export async function putItem(client: DynamoDBClient, table: string, id: string): Promise<void> {
  await client.send(new PutItemCommand({ TableName: table, Item: { id: { S: id }, writtenAt: { N: String(Date.now()) } } }));
}

export async function hasItem(client: DynamoDBClient, table: string, id: string): Promise<boolean> {
  const { Item } = await client.send(new GetItemCommand({ TableName: table, Key: { id: { S: id } }, ConsistentRead: true }));
  return Item !== undefined;
}

/** What a TCP connection to `url` (http:// or stomp://) meets: a listener, or a refusal. */
export function connectionOutcome(url: string): Promise<'accepted' | 'refused' | 'other'> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve('accepted');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED' ? 'refused' : 'other'));
  });
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function controllerStateExists(dataDir: string): Promise<boolean> {
  return (await new TwinLayout(dataDir).readState()) !== undefined;
}
