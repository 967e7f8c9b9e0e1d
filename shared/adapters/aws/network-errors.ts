/** Socket-level failures: the request may never have reached the service, or its answer never came back. */
const NETWORK_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/** The errno of a network failure behind `error`, or undefined when it is not one. */
export function networkErrorCode(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== undefined && NETWORK_ERROR_CODES.has(code)) return code;
  // Node reports a refused dual-stack connect (IPv4 and IPv6 both tried) as an AggregateError of the attempts.
  if (error instanceof AggregateError) {
    for (const inner of error.errors) {
      const innerCode = networkErrorCode(inner);
      if (innerCode) return innerCode;
    }
  }
  return undefined;
}

/** A server-side failure the service asks callers to retry (HTTP 5xx). */
export const isServerError = (error: unknown) => ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0) >= 500;
