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

/** A port of the twin's saved layout is held by another process, so the component that owns it cannot start. */
export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
  constructor(
    readonly port: number,
    /** Who owns the port in the layout, e.g. `us-east-1 kinesis` or `controller`. */
    readonly component: string,
    readonly dataDir: string,
  ) {
    super(
      `port ${port} (${component}) is in use by another process. The twin on ${dataDir} keeps its ports across restarts ` +
        `(saved in ${dataDir}/twin.json), so it cannot move it. Free the port (\`ss -ltnp 'sport = :${port}'\` or ` +
        `\`lsof -i :${port}\` shows who holds it), or start the twin on another --data-dir (it picks free ports), ` +
        'or add --fresh to wipe this data directory and pick new ports.',
    );
  }
}

/** A request needs a region that is not up (down, starting, stopping, or not answering). */
export class RegionUnavailableError extends Error {
  override readonly name = 'RegionUnavailableError';
  constructor(
    readonly region: string,
    detail: string,
  ) {
    super(`region ${region} ${detail}; start it with \`rotor region start ${region}\` or target another region`);
  }
}

/** The function ran and failed (AWS `X-Amz-Function-Error: Unhandled`): it threw, timed out, or could not load. */
export class FunctionError extends Error {
  override readonly name = 'FunctionError';
  constructor(
    readonly functionName: string,
    /** The name of what the handler threw, e.g. `TradeValidationError`, `FunctionTimeoutError`. */
    readonly errorType: string,
    readonly errorMessage: string,
    /** The region that ran it, when the controller said. */
    readonly region?: string,
  ) {
    super(`${functionName}${region ? ` in ${region}` : ''} failed: ${errorType}: ${errorMessage}`);
  }
}
