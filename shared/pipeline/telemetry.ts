import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

/** Powertools Logger (JSON, correlation id = trade id) and Metrics (EMF) for one stage (DESIGN §7). */
export function stageTelemetry(stage: string) {
  const logger = new Logger({ serviceName: stage, logLevel: (process.env.POWERTOOLS_LOG_LEVEL as 'INFO' | undefined) ?? 'INFO' });
  const metrics = new Metrics({ namespace: 'Rotor', serviceName: stage, defaultDimensions: { region: process.env.AWS_REGION ?? 'unknown' } });
  return { logger, metrics };
}
