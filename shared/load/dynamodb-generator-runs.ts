import { PutCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GeneratorRun, type GeneratorRunStore } from '#shared/load/generator-run.ts';

/** Generator runs in their DynamoDB table (a global table: verify finds them in either region). */
export class DynamoDbGeneratorRuns implements GeneratorRunStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async save(run: GeneratorRun): Promise<void> {
    await this.documents.send(new PutCommand({ TableName: this.table, Item: { ...run } }));
  }

  async all(): Promise<GeneratorRun[]> {
    const runs: GeneratorRun[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(new ScanCommand({ TableName: this.table, ConsistentRead: true, ExclusiveStartKey: startKey }));
      for (const item of page.Items ?? []) {
        const parsed = GeneratorRun.safeParse(item);
        if (parsed.success) runs.push(parsed.data);
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return runs.sort((a, b) => (a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : a.id.localeCompare(b.id)));
  }
}
