/**
 * aws-local-stepfunctions 3 calls `Promise.withResolvers` (Node 22+) in every Task and Retry. Rotor supports
 * Node 20, where its absence makes each Task fail with a TypeError, so the runner installs it before use.
 */

interface PromiseWithResolversResult<T> {
  promise: Promise<T>;
  resolve: (value: T | PromiseLike<T>) => void;
  reject: (reason?: unknown) => void;
}

type PromiseConstructorWithResolvers = PromiseConstructor & {
  withResolvers?: <T>() => PromiseWithResolversResult<T>;
};

export function installPromiseWithResolvers(): void {
  const promiseConstructor = Promise as PromiseConstructorWithResolvers;
  if (typeof promiseConstructor.withResolvers === 'function') return;
  promiseConstructor.withResolvers = <T>(): PromiseWithResolversResult<T> => {
    let resolve!: PromiseWithResolversResult<T>['resolve'];
    let reject!: PromiseWithResolversResult<T>['reject'];
    const promise = new Promise<T>((onResolve, onReject) => {
      resolve = onResolve;
      reject = onReject;
    });
    return { promise, resolve, reject };
  };
}

installPromiseWithResolvers();
