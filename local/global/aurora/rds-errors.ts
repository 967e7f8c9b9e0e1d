/**
 * The RDS API's own errors as the twin's RDS endpoint answers them: each carries the awsQuery error code and HTTP
 * status of the RDS model, so `@aws-sdk/client-rds` raises the same exception class it would against AWS.
 */

export abstract class RdsServiceError extends Error {
  abstract readonly code: string;
  abstract readonly httpStatus: number;
  /** `Sender` (the request is at fault) or `Receiver` (the service is). */
  readonly faultType: 'Sender' | 'Receiver' = 'Sender';
}

export class GlobalClusterNotFoundError extends RdsServiceError {
  override readonly name = 'GlobalClusterNotFoundError';
  readonly code = 'GlobalClusterNotFoundFault';
  readonly httpStatus = 404;
  constructor(identifier: string) {
    super(`Global cluster ${identifier} not found.`);
  }
}

export class DbClusterNotFoundError extends RdsServiceError {
  override readonly name = 'DbClusterNotFoundError';
  readonly code = 'DBClusterNotFoundFault';
  readonly httpStatus = 404;
}

export class InvalidGlobalClusterStateError extends RdsServiceError {
  override readonly name = 'InvalidGlobalClusterStateError';
  readonly code = 'InvalidGlobalClusterStateFault';
  readonly httpStatus = 400;
}

export class InvalidParameterValueError extends RdsServiceError {
  override readonly name = 'InvalidParameterValueError';
  readonly code = 'InvalidParameterValue';
  readonly httpStatus = 400;
}

export class InvalidParameterCombinationError extends RdsServiceError {
  override readonly name = 'InvalidParameterCombinationError';
  readonly code = 'InvalidParameterCombination';
  readonly httpStatus = 400;
}

export class MissingParameterError extends RdsServiceError {
  override readonly name = 'MissingParameterError';
  readonly code = 'MissingParameter';
  readonly httpStatus = 400;
  constructor(parameter: string) {
    super(`The request must contain the parameter ${parameter}.`);
  }
}

/** An action the twin does not serve (it emulates the global-cluster subset Rotor's task functions use). */
export class InvalidActionError extends RdsServiceError {
  override readonly name = 'InvalidActionError';
  readonly code = 'InvalidAction';
  readonly httpStatus = 400;
  constructor(action: string) {
    super(`The action ${action || '(none)'} is not valid for this web service; the twin serves DescribeGlobalClusters, SwitchoverGlobalCluster and FailoverGlobalCluster.`);
  }
}
