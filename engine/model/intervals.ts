/**
 * Sets of integers stored as sorted, disjoint, non-adjacent inclusive ranges in a flat array
 * `[lo0, hi0, lo1, hi1, …]`. Used for port sets (per protocol) and IPv4 address sets.
 * Immutable: every operation returns a new array.
 */
export type IntervalSet = readonly number[];

export const EMPTY_INTERVALS: IntervalSet = Object.freeze([]);

export function range(lo: number, hi: number): IntervalSet {
  return lo <= hi ? [lo, hi] : EMPTY_INTERVALS;
}

/** Builds a normalised set from arbitrary (possibly overlapping) ranges. */
export function fromRanges(ranges: Iterable<readonly [number, number]>): IntervalSet {
  const sorted = [...ranges].filter(([lo, hi]) => lo <= hi).sort((a, b) => a[0] - b[0]);
  const out: number[] = [];
  for (const [lo, hi] of sorted) {
    const last = out.length - 1;
    if (last > 0 && lo <= out[last] + 1) {
      if (hi > out[last]) out[last] = hi;
    } else {
      out.push(lo, hi);
    }
  }
  return out;
}

export function union(a: IntervalSet, b: IntervalSet): IntervalSet {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const pairs: [number, number][] = [];
  for (let i = 0; i < a.length; i += 2) pairs.push([a[i], a[i + 1]]);
  for (let i = 0; i < b.length; i += 2) pairs.push([b[i], b[i + 1]]);
  return fromRanges(pairs);
}

export function intersect(a: IntervalSet, b: IntervalSet): IntervalSet {
  if (a.length === 0 || b.length === 0) return EMPTY_INTERVALS;
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const lo = Math.max(a[i], b[j]);
    const hi = Math.min(a[i + 1], b[j + 1]);
    if (lo <= hi) out.push(lo, hi);
    if (a[i + 1] < b[j + 1]) i += 2;
    else j += 2;
  }
  return out;
}

export function subtract(a: IntervalSet, b: IntervalSet): IntervalSet {
  if (a.length === 0 || b.length === 0) return a;
  const out: number[] = [];
  let j = 0;
  for (let i = 0; i < a.length; i += 2) {
    let lo = a[i];
    const hi = a[i + 1];
    while (j < b.length && b[j + 1] < lo) j += 2;
    let k = j;
    while (k < b.length && b[k] <= hi) {
      if (b[k] > lo) out.push(lo, b[k] - 1);
      lo = Math.max(lo, b[k + 1] + 1);
      k += 2;
    }
    if (lo <= hi) out.push(lo, hi);
  }
  return out;
}

export function contains(set: IntervalSet, value: number): boolean {
  // Binary search over range starts.
  let lo = 0;
  let hi = set.length / 2 - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (value < set[2 * mid]) hi = mid - 1;
    else if (value > set[2 * mid + 1]) lo = mid + 1;
    else return true;
  }
  return false;
}

export function equals(a: IntervalSet, b: IntervalSet): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function isEmpty(a: IntervalSet): boolean {
  return a.length === 0;
}

export function size(a: IntervalSet): number {
  let total = 0;
  for (let i = 0; i < a.length; i += 2) total += a[i + 1] - a[i] + 1;
  return total;
}

export function toPairs(a: IntervalSet): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < a.length; i += 2) out.push([a[i], a[i + 1]]);
  return out;
}
