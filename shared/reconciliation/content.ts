import type { z } from 'zod';

/**
 * How reconciliation compares content across stores. Bodies are compared as JSON values, not as text: matching
 * re-emits outbox rows read back from PostgreSQL's jsonb, whose key order differs from the order the first emission
 * had, so the same message can reach a store as two different strings.
 */

/** JSON text with object keys sorted at every level; undefined members are left out as JSON.stringify does. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((entry) => canonicalJson(entry ?? null)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, member]) => member !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, member]) => `${JSON.stringify(key)}:${canonicalJson(member)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function parsed(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

/** True when two message bodies say the same: equal JSON values, or equal text when either is not JSON. */
export function sameBody(stored: unknown, expected: string): boolean {
  if (typeof stored !== 'string') return false;
  if (stored === expected) return true;
  const [a, b] = [parsed(stored), parsed(expected)];
  return a.ok && b.ok && canonicalJson(a.value) === canonicalJson(b.value);
}

/**
 * The members of a stored item that a strict record schema knows, parsed by it: a store item carries attributes
 * of its own (`recordedAt`, `sourceId`, `deliveries`) that the stream record it came from or goes to does not.
 */
export function recordOf<S extends z.ZodObject>(schema: S, item: Readonly<Record<string, unknown>>): z.infer<S> | undefined {
  const picked = Object.fromEntries(Object.keys(schema.shape).filter((key) => item[key] !== undefined).map((key) => [key, item[key]]));
  const result = schema.safeParse(picked);
  return result.success ? result.data : undefined;
}

/** A nested member of a loosely typed item, or undefined when any step is missing. */
export function memberAt(item: unknown, ...path: string[]): unknown {
  let current = item;
  for (const step of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[step];
  }
  return current;
}
