import { createHash } from 'node:crypto';
import { ScanCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { isWatermarkId } from './drain-check.ts';

/**
 * A content digest of a DynamoDB safe store: every item, sorted by id, in canonical JSON, leaving out what says
 * when or where an item was written rather than what it says:
 *
 * - items whose id starts `watermark:` (the drain check's own marks);
 * - `recordedAt`, the time the store recorded the item (a replay records it anew);
 * - `aws:rep:*`, the attributes global tables version 2017.11.29 stamps into items. Version 2019.11.21 and the
 *   twin's replication (local/global/dynamo-replication, which keeps its versions beside the items) write none.
 *
 * Items are read as DynamoDB attribute values, not through the document client: numbers keep their exact text
 * (normalised, so `12.50` and `12.5` agree) and sets, which have no order, are sorted.
 */

export const IGNORED_ATTRIBUTES: readonly string[] = ['recordedAt'];
const IGNORED_ATTRIBUTE_PREFIX = 'aws:rep:';

export interface ContentDigest {
  readonly digest: string;
}

export interface TableDigest extends ContentDigest {
  readonly items: number;
}

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** JSON with object keys sorted at every level; `undefined` members are left out, as JSON.stringify does. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((element) => canonicalJson(element)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, member]) => member !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, member]) => `${JSON.stringify(key)}:${canonicalJson(member)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export async function digestTable(dynamodb: DynamoDBClient, tableName: string): Promise<TableDigest> {
  const hashes: Array<readonly [string, string]> = [];
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await dynamodb.send(new ScanCommand({ TableName: tableName, ConsistentRead: true, ...(startKey ? { ExclusiveStartKey: startKey } : {}) }));
    for (const item of page.Items ?? []) {
      const id = item.id?.S ?? canonicalJson(canonicalAttribute(item.id ?? { NULL: true }));
      if (isWatermarkId(id)) continue;
      hashes.push([id, sha256(canonicalJson(canonicalItem(item)))]);
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return { items: hashes.length, digest: digestOfSorted(hashes) };
}

/** The digest of (key, content hash) pairs taken in key order. */
export function digestOfSorted(hashes: Array<readonly [string, string]>): string {
  hashes.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const hash = createHash('sha256');
  for (const [key, contentHash] of hashes) hash.update(`${JSON.stringify(key)}\t${contentHash}\n`);
  return hash.digest('hex');
}

export function canonicalItem(item: Record<string, AttributeValue>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(item)
      .filter(([name]) => !IGNORED_ATTRIBUTES.includes(name) && !name.startsWith(IGNORED_ATTRIBUTE_PREFIX))
      .map(([name, value]) => [name, canonicalAttribute(value)]),
  );
}

function canonicalAttribute(value: AttributeValue): unknown {
  if (value.S !== undefined) return { S: value.S };
  if (value.N !== undefined) return { N: canonicalNumber(value.N) };
  if (value.B !== undefined) return { B: base64(value.B) };
  if (value.BOOL !== undefined) return { BOOL: value.BOOL };
  if (value.NULL !== undefined) return { NULL: true };
  if (value.SS !== undefined) return { SS: [...value.SS].sort() };
  if (value.NS !== undefined) return { NS: value.NS.map(canonicalNumber).sort() };
  if (value.BS !== undefined) return { BS: value.BS.map(base64).sort() };
  if (value.L !== undefined) return { L: value.L.map(canonicalAttribute) };
  if (value.M !== undefined) return { M: Object.fromEntries(Object.entries(value.M).map(([name, member]) => [name, canonicalAttribute(member)])) };
  return { unknown: Object.keys(value).sort() };
}

const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

/** Plain decimal text without leading zeros, trailing fractional zeros or a `+`; other forms are kept as they are. */
function canonicalNumber(text: string): string {
  const match = /^([+-]?)(\d+)(?:\.(\d*))?$/.exec(text.trim());
  if (!match) return text;
  const [, sign, integer, fraction = ''] = match;
  const whole = integer!.replace(/^0+(?=\d)/, '');
  const decimals = fraction.replace(/0+$/, '');
  const digits = decimals ? `${whole}.${decimals}` : whole;
  return sign === '-' && /[1-9]/.test(digits) ? `-${digits}` : digits;
}
