/** The region's own log: one JSON object per line on stderr (stdout carries only the ready line). */
export interface RegionLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export function regionLogger(region: string): RegionLogger {
  const write = (level: string, message: string, fields?: Record<string, unknown>) =>
    process.stderr.write(`${JSON.stringify({ level, time: new Date().toISOString(), component: 'region', region, message, ...fields })}\n`);
  return {
    info: (message, fields) => write('INFO', message, fields),
    error: (message, fields) => write('ERROR', message, fields),
  };
}
