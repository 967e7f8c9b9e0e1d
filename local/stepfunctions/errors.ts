/** Errors of Rotor's local Step Functions runner. Each names what the operator has to fix. */

export class StepFunctionsRunnerError extends Error {
  override readonly name: string = 'StepFunctionsRunnerError';
}

export class DefinitionLoadError extends StepFunctionsRunnerError {
  override readonly name = 'DefinitionLoadError';
}

export class InvalidDefinitionError extends StepFunctionsRunnerError {
  override readonly name = 'InvalidDefinitionError';
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(`state machine definition ${source} is invalid:\n  ${problems.join('\n  ')}`);
  }
}

/** The local engine ignores JSONata fields silently, so running such a workflow would do the wrong thing. */
export class JsonataNotSupportedError extends StepFunctionsRunnerError {
  override readonly name = 'JsonataNotSupportedError';
  constructor(
    readonly source: string,
    readonly locations: readonly string[],
  ) {
    super(
      `state machine definition ${source} uses QueryLanguage "JSONata" at ${locations.join(', ')}. ` +
        'The local Step Functions runner supports JSONPath only (it would silently ignore Arguments, Output, ' +
        'Assign and Condition), so Rotor workflows are written in JSONPath: Parameters, ResultSelector, ' +
        'ResultPath, OutputPath and Choice Variable rules.',
    );
  }
}

export class MissingTaskHandlerError extends StepFunctionsRunnerError {
  override readonly name = 'MissingTaskHandlerError';
  constructor(
    readonly stateMachineName: string,
    readonly missing: ReadonlyArray<{ stateName: string; functionName: string }>,
    readonly provided: readonly string[],
  ) {
    super(
      `state machine ${stateMachineName} calls Lambda functions with no local handler: ` +
        missing.map(({ stateName, functionName }) => `state "${stateName}" → ${functionName}`).join('; ') +
        `. Handlers provided: ${provided.length > 0 ? provided.join(', ') : 'none'}.`,
    );
  }
}

export class UnsupportedTaskResourceError extends StepFunctionsRunnerError {
  override readonly name = 'UnsupportedTaskResourceError';
  constructor(
    readonly stateName: string,
    readonly resource: string,
    reason: string,
  ) {
    super(`Task state "${stateName}" uses resource ${resource}, which the local runner cannot run: ${reason}`);
  }
}

export class InvalidExecutionNameError extends StepFunctionsRunnerError {
  override readonly name = 'InvalidExecutionNameError';
}

export class ExecutionAlreadyExistsError extends StepFunctionsRunnerError {
  override readonly name = 'ExecutionAlreadyExistsError';
  constructor(readonly executionName: string) {
    super(`an execution named ${executionName} already exists for this state machine; execution names are unique`);
  }
}

export class ExecutionNotFoundError extends StepFunctionsRunnerError {
  override readonly name = 'ExecutionNotFoundError';
  constructor(readonly execution: string) {
    super(`no execution ${execution}`);
  }
}

export class ExecutionHistoryCorruptError extends StepFunctionsRunnerError {
  override readonly name = 'ExecutionHistoryCorruptError';
}
