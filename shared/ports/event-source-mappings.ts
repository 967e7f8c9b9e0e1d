/**
 * The event-source-mapping port: reading and switching a Lambda event-source mapping (on AWS, the Lambda API's
 * `GetEventSourceMapping` and `UpdateEventSourceMapping`). The mapping follower uses it to keep each gateway's MQ
 * mapping enabled exactly while the routing control that enables it is On in its region.
 *
 * Mappings are addressed by their UUID. Switching one is asynchronous on AWS: an enabled mapping goes through
 * `Enabling` before it reads `Enabled`, and the API refuses changes while the mapping is busy with another one.
 */

/** AWS's `State` of a mapping. Kept open: AWS may add states, and callers must leave ones they do not know alone. */
export type MappingState = 'Creating' | 'Enabling' | 'Enabled' | 'Disabling' | 'Disabled' | 'Updating' | 'Deleting' | (string & {});

export interface EventSourceMappings {
  /** The mapping's current state; rejects with one of the errors below. */
  state(uuid: string): Promise<MappingState>;
  /** Asks for the mapping to be enabled or disabled; idempotent. The state moves on asynchronously. */
  setEnabled(uuid: string, enabled: boolean): Promise<void>;
}

/** The mapping does not exist (deleted, or a wrong UUID in the configuration). It stays so until someone fixes it. */
export class EventSourceMappingNotFoundError extends Error {
  override readonly name = 'EventSourceMappingNotFoundError';
  readonly transient = false;
  constructor(
    readonly uuid: string,
    options?: ErrorOptions,
  ) {
    super(`event-source mapping ${uuid} does not exist`, options);
  }
}

/** The mapping is busy with another change (AWS's ResourceConflictException or ResourceInUseException); try later. */
export class EventSourceMappingBusyError extends Error {
  override readonly name = 'EventSourceMappingBusyError';
  readonly transient = true;
  constructor(
    readonly uuid: string,
    reason: string,
    options?: ErrorOptions,
  ) {
    super(`event-source mapping ${uuid} is busy: ${reason}`, options);
  }
}

/** The API did not answer (network, timeout, throttling, a server error); the request may be retried later. */
export class EventSourceMappingsUnavailableError extends Error {
  override readonly name = 'EventSourceMappingsUnavailableError';
  readonly transient = true;
  constructor(
    readonly uuid: string,
    reason: string,
    options?: ErrorOptions,
  ) {
    super(`the event-source mapping API did not serve ${uuid}: ${reason}`, options);
  }
}

/** The API refused the request as such (permissions, a malformed UUID); it fails the same way until someone fixes it. */
export class EventSourceMappingRequestError extends Error {
  override readonly name = 'EventSourceMappingRequestError';
  readonly transient = false;
  constructor(
    readonly uuid: string,
    reason: string,
    options?: ErrorOptions,
  ) {
    super(`event-source mapping ${uuid}: ${reason}`, options);
  }
}
