import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Per-function `process.env` for handlers that share one OS process.
 *
 * On AWS every function runs in its own sandbox with its own environment. The twin runs many functions in one
 * region process, and handlers read `process.env` directly (often at module load, to build SDK clients once).
 * Mutating the global object per invocation would race as soon as two functions run concurrently, so
 * `process.env` is replaced once by a view that resolves every access against the environment of the function
 * whose code is running — tracked with AsyncLocalStorage, so it follows the handler through awaits, timers and
 * SDK callbacks. Outside any function the view is the process's own environment, unchanged.
 *
 * Reads inside a function see the process environment overlaid with that function's variables (the region
 * process supplies shared settings such as emulator endpoints; the function's own values win). Writes and
 * deletes inside a function affect only that function, like on AWS.
 */

// `undefined` marks a variable the function deleted, so it stays hidden even if the process has it.
type FunctionEnvironment = Record<string, string | undefined>;

const activeEnvironment = new AsyncLocalStorage<FunctionEnvironment>();
let installed = false;

function installEnvironmentView(): void {
  if (installed) return;
  installed = true;
  const processEnvironment = process.env;
  const own = (key: string | symbol): FunctionEnvironment | undefined => {
    const scoped = activeEnvironment.getStore();
    return typeof key === 'string' && scoped && Object.hasOwn(scoped, key) ? scoped : undefined;
  };
  process.env = new Proxy(processEnvironment, {
    get(target, key) {
      const scoped = own(key);
      return scoped ? scoped[key as string] : Reflect.get(target, key);
    },
    has(target, key) {
      const scoped = own(key);
      return scoped ? scoped[key as string] !== undefined : Reflect.has(target, key);
    },
    set(target, key, value) {
      const scoped = activeEnvironment.getStore();
      if (scoped && typeof key === 'string') {
        scoped[key] = String(value);
        return true;
      }
      return Reflect.set(target, key, value);
    },
    defineProperty(target, key, descriptor) {
      const scoped = activeEnvironment.getStore();
      if (scoped && typeof key === 'string') {
        scoped[key] = String(descriptor.value);
        return true;
      }
      return Reflect.defineProperty(target, key, descriptor);
    },
    deleteProperty(target, key) {
      const scoped = activeEnvironment.getStore();
      if (scoped && typeof key === 'string') {
        scoped[key] = undefined;
        return true;
      }
      return Reflect.deleteProperty(target, key);
    },
    ownKeys(target) {
      const scoped = activeEnvironment.getStore();
      const keys = new Set(Reflect.ownKeys(target));
      if (scoped) {
        for (const [key, value] of Object.entries(scoped)) {
          if (value === undefined) keys.delete(key);
          else keys.add(key);
        }
      }
      return [...keys];
    },
    getOwnPropertyDescriptor(target, key) {
      const scoped = own(key);
      if (!scoped) return Reflect.getOwnPropertyDescriptor(target, key);
      const value = scoped[key as string];
      return value === undefined ? undefined : { value, writable: true, enumerable: true, configurable: true };
    },
  });
}

/** Runs `body` (and everything it schedules) with `environment` visible through `process.env`. */
export function runWithFunctionEnvironment<T>(environment: FunctionEnvironment, body: () => T): T {
  installEnvironmentView();
  return activeEnvironment.run(environment, body);
}
