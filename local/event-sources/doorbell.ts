/** Lets one waiter sleep until something changes, a timeout passes, or the signal aborts. */
export class Doorbell {
  private wakeWaiter: (() => void) | undefined;

  ring(): void {
    const wake = this.wakeWaiter;
    this.wakeWaiter = undefined;
    wake?.();
  }

  wait(timeoutMs: number | undefined, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const wake = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', wake);
        if (this.wakeWaiter === wake) this.wakeWaiter = undefined;
        resolve();
      };
      if (signal.aborted) return wake();
      this.wakeWaiter = wake;
      if (timeoutMs !== undefined) timer = setTimeout(wake, timeoutMs);
      signal.addEventListener('abort', wake, { once: true });
    });
  }
}
