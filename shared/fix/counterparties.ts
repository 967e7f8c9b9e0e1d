import { z } from 'zod';

/**
 * The counterparties allowed to log on, by SenderCompID: the party their legs are sent as and the password of the
 * Logon. The twin's defaults are below; a JSON file or the FIX_COUNTERPARTIES variable replaces them.
 */

export const Counterparty = z.strictObject({
  compId: z.string().regex(/^[A-Za-z0-9]{1,20}$/),
  party: z.string().regex(/^[A-Za-z0-9]{1,20}$/),
  password: z.string().min(1),
});
export type Counterparty = z.infer<typeof Counterparty>;

export const DEFAULT_COUNTERPARTIES: readonly Counterparty[] = [
  { compId: 'IMQAINS012', party: 'QAINS012', password: 'im-secret' },
  { compId: 'BRQABRO010', party: 'QABRO010', password: 'broker-secret' },
];

/** The gateway's own CompID: the TargetCompID of every client. */
export const GATEWAY_COMP_ID = 'ROTOR';

export class CounterpartyConfigurationError extends Error {
  override readonly name = 'CounterpartyConfigurationError';
}

export function counterpartiesFrom(json: string | undefined): ReadonlyMap<string, Counterparty> {
  if (!json) return new Map(DEFAULT_COUNTERPARTIES.map((entry) => [entry.compId, entry]));
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    throw new CounterpartyConfigurationError(`counterparties are not JSON: ${(error as Error).message}`);
  }
  const result = z.array(Counterparty).min(1).safeParse(parsed);
  if (!result.success) throw new CounterpartyConfigurationError(`counterparties: ${result.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`).join('; ')}`);
  return new Map(result.data.map((entry) => [entry.compId, entry]));
}
