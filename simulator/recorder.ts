/**
 * Collects the history (src/contracts/history.ts) in event order and assigns `seq`. Events are
 * stored as given (no copy): callers build a fresh object per event.
 */
import type { HistoryEvent, NewEvent } from '../src/contracts/history.ts';

export class Recorder {
  readonly events: HistoryEvent[] = [];
  private seq = 0;

  emit(ev: NewEvent): HistoryEvent {
    const full = ev as HistoryEvent;
    full.seq = this.seq++;
    this.events.push(full);
    return full;
  }
}
