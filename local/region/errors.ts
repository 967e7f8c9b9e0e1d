/** The command line or the options given to `startRegion` cannot describe a region. */
export class RegionConfigurationError extends Error {
  override readonly name = 'RegionConfigurationError';
}

/** A component of the region (an emulator, the broker, a database, a mapping) failed to come up. */
export class RegionStartError extends Error {
  override readonly name = 'RegionStartError';
  constructor(
    readonly component: string,
    cause: unknown,
  ) {
    super(`region component ${component} failed to start: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** A stream or table of the manifest did not become usable in the emulator. */
export class ProvisioningError extends Error {
  override readonly name = 'ProvisioningError';
}

// Lives beside the connection strings it rejects, which functions open on AWS too.
export { DatabaseConnectionStringError } from '#shared/adapters/postgres/database-registry.ts';
