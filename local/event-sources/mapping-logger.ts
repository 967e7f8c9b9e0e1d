/** Where a mapping reports what an operator should know about: retries, discarded records, poll failures. */
export interface MappingLogger {
  /** State changes an operator may want to follow (a mapping paused or resumed); optional for quiet loggers. */
  info?(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** One JSON object per line on stderr, the shape the region process collects. */
export function jsonLinesLogger(component: string): MappingLogger {
  const write = (level: string, message: string, fields?: Record<string, unknown>) =>
    process.stderr.write(`${JSON.stringify({ level, time: new Date().toISOString(), component, message, ...fields })}\n`);
  return {
    info: (message, fields) => write('INFO', message, fields),
    warn: (message, fields) => write('WARN', message, fields),
    error: (message, fields) => write('ERROR', message, fields),
  };
}
