import { access } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { HandlerLoadError } from '#local/lambda/errors.ts';
import type { LambdaHandler } from '#local/lambda/runtime.ts';

// Handlers are TypeScript in the repo and JavaScript once bundled; try both, in that order.
const MODULE_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs'] as const;

export interface ParsedHandlerReference {
  modulePath: string;
  exportName: string;
}

/** Splits an AWS-style handler string `functions/x/y.handler` into module path and export name. */
export function parseHandlerReference(reference: string): ParsedHandlerReference {
  const lastDot = reference.lastIndexOf('.');
  const lastSlash = reference.lastIndexOf('/');
  if (lastDot <= 0 || lastDot < lastSlash || lastDot === reference.length - 1) {
    throw new HandlerLoadError(reference, "expected '<module path>.<export name>'");
  }
  return { modulePath: reference.slice(0, lastDot), exportName: reference.slice(lastDot + 1) };
}

async function resolveModuleFile(reference: string, absoluteBase: string): Promise<string> {
  // A reference that already names its extension (`functions/x/y.ts.handler`) is used as is.
  const candidates = path.extname(absoluteBase) ? [absoluteBase] : MODULE_EXTENSIONS.map((ext) => absoluteBase + ext);
  for (const candidate of candidates) {
    try {
      await access(candidate);
      return candidate;
    } catch {
      // try the next extension
    }
  }
  throw new HandlerLoadError(reference, `no module at ${absoluteBase}{${MODULE_EXTENSIONS.join(',')}}`);
}

/**
 * Imports the module named by an AWS handler string, relative to `rootDir` (the repository root in the twin,
 * `/var/task` on AWS), and returns the named export. `instanceName` (the function name) keys the module instance. The module is evaluated by the caller's environment scope,
 * so module-level code that reads `process.env` sees the function's own variables.
 */
export async function loadHandler(reference: string, rootDir: string, instanceName: string): Promise<LambdaHandler> {
  const { modulePath, exportName } = parseHandlerReference(reference);
  const file = await resolveModuleFile(reference, path.resolve(rootDir, modulePath));
  // The query gives each function its own instance of the handler module (its module-level clients and
  // caches), as separate sandboxes would on AWS; modules it imports are shared by the process.
  const url = `${pathToFileURL(file).href}?lambda=${encodeURIComponent(instanceName)}`;
  let loaded: Record<string, unknown>;
  try {
    loaded = (await import(url)) as Record<string, unknown>;
  } catch (error) {
    throw new HandlerLoadError(reference, `importing ${file} failed`, error);
  }
  const handler = loaded[exportName];
  if (typeof handler !== 'function') {
    throw new HandlerLoadError(reference, `${file} has no exported function '${exportName}'`);
  }
  return handler as LambdaHandler;
}
