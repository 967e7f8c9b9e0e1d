/**
 * Errors of the ARC emulator. `ArcServiceError`s are the API's own errors: each carries the AWS error type, HTTP
 * status and members the Route 53 Recovery Cluster SDK reads, so a client sees exactly what AWS would send.
 */

export abstract class ArcServiceError extends Error {
  abstract readonly errorType: string;
  abstract readonly httpStatus: number;
  /** Error members beyond `message`, named as in the AWS model. */
  members(): Record<string, unknown> {
    return {};
  }
}

export class ResourceNotFoundError extends ArcServiceError {
  override readonly name = 'ResourceNotFoundError';
  readonly errorType = 'ResourceNotFoundException';
  readonly httpStatus = 404;
  constructor(
    readonly resourceId: string,
    readonly resourceType: string,
  ) {
    super(`${resourceType} ${resourceId} was not found`);
  }
  override members() {
    return { resourceId: this.resourceId, resourceType: this.resourceType };
  }
}

export interface ValidationField {
  readonly name: string;
  readonly message: string;
}

export class RequestValidationError extends ArcServiceError {
  override readonly name = 'RequestValidationError';
  readonly errorType = 'ValidationException';
  readonly httpStatus = 400;
  constructor(
    message: string,
    readonly reason: 'cannotParse' | 'fieldValidationFailed' | 'unknownOperation' | 'other',
    readonly fields: readonly ValidationField[] = [],
  ) {
    super(message);
  }
  override members() {
    return { reason: this.reason, ...(this.fields.length > 0 ? { fields: this.fields } : {}) };
  }
}

export interface ViolatedSafetyRule {
  readonly name: string;
  readonly arn: string;
}

/** An update would leave a safety rule unsatisfied; AWS answers 409 and changes nothing. */
export class SafetyRuleConflictError extends ArcServiceError {
  override readonly name = 'SafetyRuleConflictError';
  readonly errorType = 'ConflictException';
  readonly httpStatus = 409;
  constructor(readonly violatedRules: readonly ViolatedSafetyRule[]) {
    super(
      `routing control update rejected: it would violate safety rule(s) ${violatedRules
        .map((rule) => `${rule.name} (${rule.arn})`)
        .join(', ')}; nothing was changed`,
    );
  }
  override members() {
    return { resourceId: this.violatedRules.map((rule) => rule.arn).join(','), resourceType: 'SafetyRule' };
  }
}

export class EndpointUnavailableError extends ArcServiceError {
  override readonly name = 'EndpointUnavailableError';
  readonly errorType = 'EndpointTemporarilyUnavailableException';
  readonly httpStatus = 503;
  constructor(endpointRegion: string) {
    super(`the cluster endpoint in ${endpointRegion} is temporarily unavailable; try another cluster endpoint`);
  }
}

export class ThrottledError extends ArcServiceError {
  override readonly name = 'ThrottledError';
  readonly errorType = 'ThrottlingException';
  readonly httpStatus = 429;
  constructor(readonly retryAfterSeconds: number) {
    super('rate exceeded; retry later or use another cluster endpoint');
  }
  override members() {
    return { retryAfterSeconds: this.retryAfterSeconds };
  }
}

/** The options given to `startArcEmulator` cannot describe a cluster. */
export class ArcConfigurationError extends Error {
  override readonly name = 'ArcConfigurationError';
}

/** The state file under the data directory exists but cannot be read as routing-control state. */
export class ArcStateFileError extends Error {
  override readonly name = 'ArcStateFileError';
}
