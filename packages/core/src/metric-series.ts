/**
 * One label set's series of a prom-client metric, bound once and then updated in place: no label object, no label
 * hash string and no closure per update (prom-client's `observe`/`inc` hash the labels into a string key on every
 * call, and a `labels()` child still does).
 *
 * The series' values stay in the metric's own store (prom-client 15's `hashMap`, keyed by the label hash, each entry
 * holding the label object it was made with), so `/metrics`, `get()`, `reset()` and `remove()` are prom-client's
 * own. A series is created by the first update, through the metric's public call, exactly as before; later updates
 * write the entry that call made. When the entry is gone or replaced (a `reset()`, a `remove()`) the next update goes
 * through the public call again and binds the new entry. Values prom-client would refuse (not finite) always take the
 * public call, which throws as it did.
 */
import type { Counter, Gauge, Histogram } from 'prom-client';

/** A label set: label name → value. */
export type SeriesLabels = Readonly<Record<string, string>>;

/** An entry of prom-client's store: the labels it was made with. */
interface StoreEntry {
  labels?: Record<string, unknown>;
}

/** A histogram's entry: buckets by upper bound (as a property key), sum and count. */
interface HistogramEntry extends StoreEntry {
  bucketValues: Record<string, number>;
  sum: number;
  count: number;
}

/** A counter's or gauge's entry. */
interface ValueEntry extends StoreEntry {
  value: number;
}

/** What a metric keeps its series in (prom-client 15). */
interface SeriesStore<E> {
  hashMap?: Record<string, E | undefined>;
}

/** The key of `labels`' entry in `map`, found by its label values (any key format), or undefined. */
function keyOf(map: Record<string, StoreEntry | undefined>, labels: SeriesLabels): string | undefined {
  const names = Object.keys(labels);
  for (const key in map) {
    const own = map[key]?.labels;
    if (!own || Object.keys(own).length !== names.length) continue;
    if (names.every((n) => own[n] === labels[n])) return key;
  }
  return undefined;
}

/** The entry of a bound series, re-found after the metric's store was reset or the series removed. */
class Binding<E extends StoreEntry> {
  private key?: string;
  private entry?: E;

  constructor(
    private readonly metric: SeriesStore<E>,
    private readonly labels: SeriesLabels,
  ) {}

  /** The bound entry while it is still the store's, else undefined (the caller updates through the public call). */
  current(): E | undefined {
    const e = this.entry;
    if (e === undefined || this.key === undefined) return undefined;
    return this.metric.hashMap?.[this.key] === e ? e : undefined;
  }

  /** After a public update: bind the entry it made or updated. */
  rebind(): void {
    const map = this.metric.hashMap;
    this.key = map ? keyOf(map, this.labels) : undefined;
    this.entry = this.key === undefined ? undefined : map?.[this.key];
  }
}

/** One label set's series of a histogram. */
export class HistogramSeries {
  private readonly binding: Binding<HistogramEntry>;
  /** The bucket keys of the entry's `bucketValues`, by ascending upper bound. */
  private readonly bucketKeys: string[];

  /** `buckets`: the histogram's upper bounds, as it was created with (ascending). */
  constructor(
    private readonly histogram: Histogram<string>,
    private readonly labels: SeriesLabels,
    private readonly buckets: readonly number[],
  ) {
    this.binding = new Binding(histogram as unknown as SeriesStore<HistogramEntry>, labels);
    this.bucketKeys = buckets.map(String);
  }

  /** Observe `value` in this series (as `histogram.observe(labels, value)`). */
  observe(value: number): void {
    const e = Number.isFinite(value) ? this.binding.current() : undefined;
    if (e === undefined) {
      this.histogram.observe(this.labels, value);
      this.binding.rebind();
      return;
    }
    e.sum += value;
    e.count += 1;
    const bounds = this.buckets;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]) {
        const k = this.bucketKeys[i];
        if (e.bucketValues[k] !== undefined) e.bucketValues[k] += 1;
        return;
      }
    }
  }
}

/** One label set's series of a counter or a gauge: its value moved in place by `add`. */
class ValueSeries {
  private readonly binding: Binding<ValueEntry>;

  constructor(
    private readonly metric: Counter<string> | Gauge<string>,
    private readonly labels: SeriesLabels,
  ) {
    this.binding = new Binding(metric as unknown as SeriesStore<ValueEntry>, labels);
  }

  /** Add `delta` (as `metric.inc(labels, delta)`). */
  protected add(delta: number): void {
    const e = this.binding.current();
    if (e === undefined) {
      this.metric.inc(this.labels, delta);
      this.binding.rebind();
      return;
    }
    e.value += delta;
  }
}

/** One label set's series of a counter. */
export class CounterSeries extends ValueSeries {
  /** Add 1 to this series (as `counter.inc(labels)`). */
  inc(): void {
    this.add(1);
  }
}

/** One label set's series of a gauge. */
export class GaugeSeries extends ValueSeries {
  /** Add 1 (as `gauge.inc(labels)`). */
  inc(): void {
    this.add(1);
  }

  /** Subtract 1 (as `gauge.dec(labels)`). */
  dec(): void {
    this.add(-1);
  }
}
