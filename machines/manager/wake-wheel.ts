import type { Clock } from '../lifecycle/types.js';

/** What the wheel schedules: it keeps its bookkeeping on the item itself (no side map: memory). */
export interface Wakeable {
  /** The item's place in the wheel's heap; -1 when not scheduled. */
  wakeIndex: number;
}

/**
 * One timer for many dormant credentials: a min-heap of wake-up moments and a single clock timer
 * armed for the earliest. Each item knows its place in the heap, so rescheduling moves it and
 * cancelling takes it out, both in O(log n): the heap holds exactly the items scheduled, never a
 * stale entry (a credential set 100,000 times, or set and removed, leaves nothing behind).
 */
export class WakeWheel<T extends Wakeable> {
  /** Heap order on `moments`; `items[i]` wakes at `moments[i]` (parallel arrays: no entry object per item). */
  private readonly items: T[] = [];
  private readonly moments: number[] = [];
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
    const i = item.wakeIndex;
    if (i >= 0 && this.items[i] === item) {
      const before = this.moments[i] as number;
      this.moments[i] = at;
      if (at < before) this.siftUp(i);
      else this.siftDown(i);
    } else {
      this.items.push(item);
      this.moments.push(at);
      item.wakeIndex = this.items.length - 1;
      this.siftUp(this.items.length - 1);
    }
    if (at < this.timerAt) this.arm(at);
  }

  cancel(item: T): void {
    const i = item.wakeIndex;
    if (i < 0 || this.items[i] !== item) return;
    this.removeAt(i);
    // The timer may stay armed for a moment nobody waits for any more: it fires, finds nothing, re-arms.
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    for (const item of this.items) item.wakeIndex = -1;
    this.items.length = 0;
    this.moments.length = 0;
  }

  get size(): number {
    return this.items.length;
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
    while (this.items.length > 0 && (this.moments[0] as number) <= now) {
      const item = this.items[0] as T;
      this.removeAt(0);
      due.push(item);
    }
    if (this.items.length > 0 && !this.stopped) this.arm(this.moments[0] as number);
    for (const item of due) this.wake(item);
  }

  private removeAt(i: number): void {
    const { items, moments } = this;
    (items[i] as T).wakeIndex = -1;
    const lastItem = items.pop() as T;
    const lastMoment = moments.pop() as number;
    if (i === items.length) return;
    const removedMoment = moments[i] as number;
    items[i] = lastItem;
    moments[i] = lastMoment;
    lastItem.wakeIndex = i;
    if (lastMoment < removedMoment) this.siftUp(i);
    else this.siftDown(i);
  }

  private place(i: number, item: T, moment: number): void {
    this.items[i] = item;
    this.moments[i] = moment;
    item.wakeIndex = i;
  }

  private siftUp(start: number): void {
    const { items, moments } = this;
    const item = items[start] as T;
    const moment = moments[start] as number;
    let i = start;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((moments[parent] as number) <= moment) break;
      this.place(i, items[parent] as T, moments[parent] as number);
      i = parent;
    }
    this.place(i, item, moment);
  }

  private siftDown(start: number): void {
    const { items, moments } = this;
    const n = items.length;
    const item = items[start] as T;
    const moment = moments[start] as number;
    let i = start;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && (moments[right] as number) < (moments[left] as number) ? right : left;
      if ((moments[child] as number) >= moment) break;
      this.place(i, items[child] as T, moments[child] as number);
      i = child;
    }
    this.place(i, item, moment);
  }
}
