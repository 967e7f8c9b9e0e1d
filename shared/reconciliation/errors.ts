/**
 * Reconciliation's own errors. None is transient: each says the request or the deployment is wrong, so a
 * workflow's retry of the same input would fail the same way.
 */

/** A pair name the app's graph does not have (a typo in `pairs`, or a pair of the other app). */
export class UnknownPairError extends Error {
  override readonly name = 'UnknownPairError';
  readonly transient = false;
  constructor(
    readonly pair: string,
    readonly known: readonly string[],
  ) {
    super(`${pair} is not a reconciliation pair of this app; its pairs are ${known.join(', ')}`);
  }
}

/** The function was deployed without the streams or queues a replay sends to. */
export class ReplayTargetsMissingError extends Error {
  override readonly name = 'ReplayTargetsMissingError';
  readonly transient = false;
  constructor(readonly pair: string) {
    super(`pair ${pair} cannot be replayed here: this function has no replay streams or queues configured`);
  }
}

/** The run's matching database is not configured for this function. */
export class OutboxUnavailableError extends Error {
  override readonly name = 'OutboxUnavailableError';
  readonly transient = false;
  constructor(readonly app: string) {
    super(`no matching database is configured for ${app}: its outbox cannot be read`);
  }
}

/** The run's matching database is not configured for this function: its trades or settlements cannot be read. */
export class DatabaseRecordsUnavailableError extends Error {
  override readonly name = 'DatabaseRecordsUnavailableError';
  readonly transient = false;
  constructor(readonly app: string) {
    super(`no matching database is configured for ${app}: its records cannot be compared`);
  }
}
