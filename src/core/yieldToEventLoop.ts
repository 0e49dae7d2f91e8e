/** The part of a browser MessagePort this file uses (Node's own typings describe a different API). */
interface Port {
  onmessage: ((event: unknown) => void) | null;
  postMessage(message: unknown): void;
  close(): void;
}

/**
 * Lets the event loop run (timers, an `AbortSignal` fired from elsewhere, UI updates) between
 * synchronous training steps. Uses `setImmediate` where it exists (Node), else a `MessageChannel`
 * (browsers: no 4 ms clamp as with nested timers), else `setTimeout`.
 */
export const yieldToEventLoop = (): Promise<void> => {
  const g = globalThis as unknown as { setImmediate?: (f: () => void) => unknown; MessageChannel?: new () => { port1: Port; port2: Port } };
  if (typeof g.setImmediate === 'function') {
    const immediate = g.setImmediate;
    return new Promise((resolve) => void immediate(resolve));
  }
  if (typeof g.MessageChannel === 'function') {
    const { port1, port2 } = new g.MessageChannel();
    return new Promise((resolve) => {
      port1.onmessage = () => {
        port1.close();
        resolve();
      };
      port2.postMessage(null);
    });
  }
  return new Promise((resolve) => setTimeout(resolve, 0));
};
