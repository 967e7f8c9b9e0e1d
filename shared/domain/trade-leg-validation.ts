import type { z } from 'zod';
import type { Nack } from './nack.ts';
import { FIELD_RULES, MAX_BODY_BYTES, TradeLeg } from './trade-leg.ts';

/** Turns a raw message body into a valid trade leg or a NACK that names what is wrong (DESIGN §3.1, §3.2). */

export type LegValidation = { ok: true; leg: TradeLeg } | { ok: false; nack: Nack };

const utf8 = new TextEncoder();
const reject = (nack: Nack): LegValidation => ({ ok: false, nack });

export function validateTradeLegMessage(body: string | Uint8Array): LegValidation {
  const bytes = typeof body === 'string' ? utf8.encode(body).byteLength : body.byteLength;
  if (bytes > MAX_BODY_BYTES) {
    return reject({ code: 'OVERSIZED', reason: `body is ${bytes} bytes; the limit is ${MAX_BODY_BYTES} bytes (256 KiB)` });
  }
  const text = typeof body === 'string' ? body : new TextDecoder().decode(body);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return reject({ code: 'MALFORMED_JSON', reason: `body is not valid JSON: ${(error as Error).message}` });
  }
  return validateTradeLeg(parsed);
}

export function validateTradeLeg(input: unknown): LegValidation {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return reject({ code: 'MALFORMED_JSON', reason: 'body must be a JSON object' });
  }
  const tradeId = tradeIdOf(input as Record<string, unknown>);
  const withId = (nack: Nack): LegValidation => reject(tradeId ? { ...nack, tradeId } : nack);

  const result = TradeLeg.schema.safeParse(input, { reportInput: true });
  if (!result.success) return withId(nackForSchemaIssues(result.error.issues));

  const leg = result.data;
  const businessNack = businessRuleViolation(leg);
  return businessNack ? withId(businessNack) : { ok: true, leg };
}

function businessRuleViolation(leg: TradeLeg): Nack | undefined {
  if (leg.imID === leg.brokerID) {
    return { code: 'INVALID_FIELD', field: 'brokerID', reason: 'brokerID must differ from imID: a trade has two parties' };
  }
  if (leg.senderID !== leg.imID && leg.senderID !== leg.brokerID) {
    return {
      code: 'SENDER_NOT_PARTY',
      field: 'senderID',
      reason: `senderID ${leg.senderID} is neither the investment manager (${leg.imID}) nor the broker (${leg.brokerID})`,
    };
  }
  const seen = new Set<number>();
  for (const [index, allocation] of leg.allocations.entries()) {
    if (seen.has(allocation.allocationID)) {
      return {
        code: 'INVALID_FIELD',
        field: `allocations[${index}].allocationID`,
        reason: `allocations[${index}].allocationID ${allocation.allocationID} appears more than once`,
      };
    }
    seen.add(allocation.allocationID);
  }
  const allocated = leg.allocations.reduce((sum, allocation) => sum + BigInt(allocation.quantity), 0n);
  if (allocated !== BigInt(leg.quantity)) {
    return {
      code: 'ALLOCATION_SUM_MISMATCH',
      field: 'allocations',
      reason: `allocation quantities sum to ${allocated} but the block quantity is ${leg.quantity}`,
    };
  }
  if (leg.settlementDate < leg.tradeDate) {
    return {
      code: 'SETTLEMENT_BEFORE_TRADE',
      field: 'settlementDate',
      reason: `settlementDate ${leg.settlementDate} is before tradeDate ${leg.tradeDate}`,
    };
  }
  return undefined;
}

/** The NACK for a body that failed a schema: the first problem, named by its field path. */
export function nackForSchemaIssues(issues: readonly z.core.$ZodIssue[]): Nack {
  const [first] = issues;
  if (!first) return { code: 'INVALID_FIELD', reason: 'body does not match the trade leg format' };
  const otherPaths = new Set(issues.map((issue) => joinPath(issue.path)).filter((path) => path !== joinPath(first.path)));
  const more = otherPaths.size > 0 ? ` (and ${otherPaths.size} more problem${otherPaths.size > 1 ? 's' : ''})` : '';

  if (first.code === 'unrecognized_keys') {
    const field = joinPath([...first.path, first.keys[0] ?? '']);
    return { code: 'INVALID_FIELD', field, reason: `unknown field ${field}${more}` };
  }
  const field = joinPath(first.path);
  // JSON has no undefined, so an issue about an undefined input is about a field that is not there.
  if (first.input === undefined) {
    return { code: 'MISSING_FIELD', field, reason: `missing field ${field}${more}` };
  }
  const leaf = [...first.path].reverse().find((part): part is string => typeof part === 'string');
  const rule = leaf && leaf in FIELD_RULES ? FIELD_RULES[leaf as keyof typeof FIELD_RULES] : first.message;
  return { code: 'INVALID_FIELD', field, reason: `${field} ${rule}; got ${describe(first.input)}${more}` };
}

function joinPath(path: readonly PropertyKey[]): string {
  return path
    .map((part, index) => (typeof part === 'number' ? `[${part}]` : `${index > 0 ? '.' : ''}${String(part)}`))
    .join('');
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (typeof value === 'object') return 'an object';
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

function tradeIdOf(input: Record<string, unknown>): string | undefined {
  const parts = [input.senderID, input.imID, input.brokerID, input.tradeID];
  const valid = parts.every((part) => typeof part === 'string' && TradeLeg.schema.shape.senderID.safeParse(part).success);
  return valid ? parts.join('-') : undefined;
}
