import type { Evidence, EvidenceSignal } from './check.js';

/** Collects evidence: counts all of it, keeps the first `max` items. @internal */
export class EvidenceList {
  items: Evidence[] = [];
  count = 0;
  bySignal: Partial<Record<EvidenceSignal, number>> = {};
  constructor(readonly max: number) {}
  add(e: Evidence): void {
    this.count1(e.signal);
    if (this.items.length < this.max) this.items.push(e);
  }
  count1(signal: EvidenceSignal): void {
    this.count++;
    this.bySignal[signal] = (this.bySignal[signal] ?? 0) + 1;
  }
  get full(): boolean {
    return this.items.length >= this.max;
  }
}
