import type { Clock } from '../lifecycle/types.js';

interface Entry<T> {
  readonly at: number;
  readonly item: T;
  readonly generation: number;
}

/** What the wheel schedules: it keeps its bookkeeping on the item itself (no side map: memory). */
export interface Wakeable {
  wakeGeneration: number;
}

/**
 * One timer for many dormant credentials: a min-heap of wake-up moments and a single clock timer
 * armed for the earliest. Rescheduling an item bumps its generation; stale heap entries are skipped
 * when popped, so cancelling costs O(1).
 */
export class WakeWheel<T extends Wakeable> {
  private readonly heap: Entry<T>[] = [];
  private timer: unknown;
  private timerAt = Number.POSITIVE_INFINITY;
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly wake: (item: T) => void,
  ) {}

  schedule(item: T, at: number): void {
    if (this.stopped || !(at < Number.POSITIVE_INFINITY)) {
      this.cancel(item);
      return;
    }
    const generation = ++item.wakeGeneration;
    this.push({ at, item, generation });
    if (at < this.timerAt) this.arm(at);
  }

  cancel(item: T): void {
    item.wakeGeneration++;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.heap.length = 0;
  }

  get size(): number {
    return this.heap.length;
  }

  private arm(at: number): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = this.clock.setTimeout(() => this.fire(), Math.max(0, at - this.clock.now()));
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = this.clock.now();
    const due: T[] = [];
    while (this.heap.length > 0 && (this.heap[0] as Entry<T>).at <= now) {
      const entry = this.pop();
      if (entry.item.wakeGeneration === entry.generation) due.push(entry.item);
    }
    const next = this.heap[0];
    if (next && !this.stopped) this.arm(next.at);
    for (const item of due) this.wake(item);
  }

  private push(entry: Entry<T>): void {
    const heap = this.heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((heap[parent] as Entry<T>).at <= entry.at) break;
      heap[i] = heap[parent] as Entry<T>;
      i = parent;
    }
    heap[i] = entry;
  }

  private pop(): Entry<T> {
    const heap = this.heap;
    const top = heap[0] as Entry<T>;
    const last = heap.pop() as Entry<T>;
    if (heap.length > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= heap.length) break;
        const right = left + 1;
        const child = right < heap.length && (heap[right] as Entry<T>).at < (heap[left] as Entry<T>).at ? right : left;
        if ((heap[child] as Entry<T>).at >= last.at) break;
        heap[i] = heap[child] as Entry<T>;
        i = child;
      }
      heap[i] = last;
    }
    return top;
  }
}
