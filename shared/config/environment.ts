/** A function's configuration comes from its environment (the manifest's `env`); a missing variable is a deployment error. */

export class MissingConfigurationError extends Error {
  override readonly name = 'MissingConfigurationError';
}

export function requiredEnv(variable: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[variable];
  if (!value) throw new MissingConfigurationError(`environment variable ${variable} is not set`);
  return value;
}
