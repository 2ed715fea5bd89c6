/**
 * Counters that make the scheduler's behaviour measurable ("no spin" is an assertion on these,
 * not a feeling) and feed the web UI. A connection's counters also add to its server's.
 */
export interface CounterValues {
  /** Engine operations run (each is one or more mbedTLS calls). */
  ops: number;
  /** Operations that ended in WANT_READ / WANT_WRITE. */
  wantRead: number;
  wantWrite: number;
  /** Operations re-run after their awaited readiness arrived. */
  retries: number;
  /** Events handled (data, drain, end, application writes, timers). */
  events: number;
  /**
   * Readiness advances: inbound bytes or end arrived, ciphertext moved from the engine to the
   * transport, the transport drained. Operations are retried only on these, so ops stay within
   * readiness + events + a small constant (the "no spin" bound).
   */
  readiness: number;
  bytesIn: number;
  bytesOut: number;
  plainIn: number;
  plainOut: number;
  /** Plaintext bytes queued now (for a server: summed over its connections). */
  queuedBytes: number;
  parks: number;
  failures: number;
}

export type CounterName = Exclude<keyof CounterValues, 'queuedBytes'>;

export class Counters {
  readonly values: CounterValues = {
    ops: 0, wantRead: 0, wantWrite: 0, retries: 0, events: 0, readiness: 0, bytesIn: 0, bytesOut: 0,
    plainIn: 0, plainOut: 0, queuedBytes: 0, parks: 0, failures: 0,
  };

  constructor(private readonly parent?: Counters) {}

  add(name: CounterName, n = 1): void {
    this.values[name] += n;
    this.parent?.add(name, n);
  }

  setQueued(n: number): void {
    const delta = n - this.values.queuedBytes;
    this.values.queuedBytes = n;
    if (this.parent) this.parent.values.queuedBytes += delta;
  }

  snapshot(): CounterValues {
    return { ...this.values };
  }
}
