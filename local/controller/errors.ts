/** The twin cannot be configured as asked (regions, data directory, ports). */
export class TwinConfigurationError extends Error {
  override readonly name = 'TwinConfigurationError';
}

/** Another controller already runs on this data directory. */
export class TwinAlreadyRunningError extends Error {
  override readonly name = 'TwinAlreadyRunningError';
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(`a twin is already running on ${dataDir} (controller pid ${pid}); stop it first (Ctrl-C in its terminal, or kill ${pid})`);
  }
}

/** A region process exited or stayed silent before it printed its ready line. */
export class RegionProcessStartError extends Error {
  override readonly name = 'RegionProcessStartError';
  constructor(
    readonly region: string,
    reason: string,
    readonly logTail: string,
  ) {
    super(`region ${region} did not start: ${reason}${logTail ? `\n--- last lines of its log ---\n${logTail}` : ''}`);
  }
}

/** An operator command named a region the twin does not run, or asked something its state does not allow. */
export class RegionCommandError extends Error {
  override readonly name = 'RegionCommandError';
}

/** No controller answers for this data directory. */
export class TwinNotRunningError extends Error {
  override readonly name = 'TwinNotRunningError';
  constructor(
    readonly dataDir: string,
    detail?: string,
  ) {
    super(`no twin is running on ${dataDir}${detail ? ` (${detail})` : ''}; start one with \`rotor up\``);
  }
}

/** The controller answered a request with an error. */
export class ControllerRequestError extends Error {
  override readonly name = 'ControllerRequestError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}
