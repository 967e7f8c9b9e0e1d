/** An event-source mapping setting is outside what AWS Lambda accepts. */
export class MappingConfigurationError extends Error {
  override readonly name = 'MappingConfigurationError';
}

/** start/stop called in a state that does not allow it. */
export class MappingStateError extends Error {
  override readonly name = 'MappingStateError';
}

/** The checkpoint file exists but cannot be understood; refusing to guess protects against skipping records. */
export class CheckpointCorruptError extends Error {
  override readonly name = 'CheckpointCorruptError';
}

/** A ReportBatchItemFailures response AWS would reject, which fails the whole batch. */
export class InvalidBatchItemFailuresError extends Error {
  override readonly name = 'InvalidBatchItemFailuresError';
}
