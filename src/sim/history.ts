// Per-resource watch history, like kube-apiserver's watch cache: a bounded ring ordered by resourceVersion.
import type { KubeObject } from "../kube/types.ts";

export type StoredEventType = "ADDED" | "MODIFIED" | "DELETED";

export interface StoredEvent {
  rv: number;
  type: StoredEventType;
  object: KubeObject;
  /** The object before a MODIFIED/DELETED, so a filtered watch can tell "left the selection" from "changed". */
  prev?: KubeObject;
  /** Serialised `{"type","object"}` line, built once and shared by every watcher that gets the event as-is. */
  line?: string;
}

export class EventRing {
  private buf: (StoredEvent | undefined)[] = [];
  private head = 0; // index of the oldest event
  private size = 0;
  /** Every event with rv <= floor is gone; a watch from an older RV must get 410. */
  floor: number;

  constructor(
    private capacity: number,
    floor: number,
  ) {
    this.floor = floor;
  }

  push(e: StoredEvent): void {
    if (this.capacity <= 0) {
      this.floor = e.rv;
      return;
    }
    if (this.size < this.capacity) {
      // Grow lazily: most resources never see anywhere near historyLimit events.
      this.buf[(this.head + this.size) % this.capacity] = e;
      this.size++;
      return;
    }
    const evicted = this.buf[this.head]!;
    this.floor = evicted.rv;
    this.buf[this.head] = e;
    this.head = (this.head + 1) % this.capacity;
  }

  private at(i: number): StoredEvent {
    return this.buf[(this.head + i) % this.capacity]!;
  }

  /** Events with rv > from, oldest first; undefined when history no longer reaches back that far. */
  since(from: number): StoredEvent[] | undefined {
    if (from < this.floor) return undefined;
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.at(mid).rv <= from) lo = mid + 1;
      else hi = mid;
    }
    const out: StoredEvent[] = [];
    for (let i = lo; i < this.size; i++) out.push(this.at(i));
    return out;
  }

  /** Drop everything: the next replay from any RV below `rv` answers 410, like an etcd compaction. */
  compact(rv: number): void {
    this.buf = [];
    this.head = 0;
    this.size = 0;
    this.floor = rv;
  }
}
