// The one Node global the shared tests use, for the browser: process.getActiveResourcesInfo()
// (test/scheduler.test.ts counts live timers to show that a stalled connection arms none).
// build.ts rewrites that expression to globalThis.__harnessActiveResources, which reports a
// 'Timeout' per live setTimeout/setInterval made through the wrapped functions below. The
// wrapping is installed by the runner before any test module loads.
type TimerId = ReturnType<typeof setTimeout>;

const live = new Set<TimerId>();
const realSetTimeout = globalThis.setTimeout.bind(globalThis);
const realClearTimeout = globalThis.clearTimeout.bind(globalThis);
const realSetInterval = globalThis.setInterval.bind(globalThis);
const realClearInterval = globalThis.clearInterval.bind(globalThis);

function wrappedSetTimeout(fn: string | ((...args: unknown[]) => void), ms?: number, ...args: unknown[]): TimerId {
  if (typeof fn !== 'function') return realSetTimeout(fn as never, ms);
  const id: TimerId = realSetTimeout(() => { live.delete(id); fn(...args); }, ms);
  live.add(id);
  return id;
}

function wrappedSetInterval(fn: string | ((...args: unknown[]) => void), ms?: number, ...args: unknown[]): TimerId {
  if (typeof fn !== 'function') return realSetInterval(fn as never, ms);
  const id: TimerId = realSetInterval(() => fn(...args), ms);
  live.add(id);
  return id;
}

export function installNodeShims(): void {
  const g = globalThis as unknown as Record<string, unknown>;
  g.setTimeout = wrappedSetTimeout;
  g.setInterval = wrappedSetInterval;
  g.clearTimeout = (id?: TimerId) => { if (id !== undefined) live.delete(id); realClearTimeout(id); };
  g.clearInterval = (id?: TimerId) => { if (id !== undefined) live.delete(id); realClearInterval(id); };
  g.__harnessActiveResources = (): string[] => [...live].map(() => 'Timeout');
}

export { realSetTimeout };
