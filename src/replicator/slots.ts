/**
 * A counting semaphore: at most `slotsMax` holders at once, the rest wait in
 * arrival order. The replicator bounds its concurrent requests and the
 * documents it holds in memory with these.
 */
import { assert } from '../core/errors.js';

export class Slots {
  private held = 0;
  private readonly waiters: (() => void)[] = [];

  constructor(readonly slotsMax: number) {
    assert(Number.isInteger(slotsMax) && slotsMax >= 1, 'slotsMax is a positive integer');
  }

  /** Runs `work` holding one slot. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await work();
    } finally {
      this.release();
    }
  }

  private acquire(): Promise<void> {
    if (this.held < this.slotsMax) {
      this.held++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private release(): void {
    const next = this.waiters.shift();
    // The slot passes straight to the next waiter; `held` is unchanged.
    if (next !== undefined) next();
    else this.held--;
  }
}
