/**
 * Follows JSONL files written by child processes (app authority/write logs, controller
 * EVENTS_FILE) by polling their size: cheap, and it works for files that do not exist yet
 * or are appended by a restarted process.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export class JsonlTail {
  private pos = 0;
  private partial = '';
  private fd: number | null = null;

  constructor(
    readonly file: string,
    private readonly onLine: (value: Record<string, unknown>, arrivedHrMs: number) => void,
  ) {}

  /** Reads whatever was appended since the last call. */
  poll(arrivedHrMs: number): void {
    if (this.fd === null) {
      try {
        this.fd = openSync(this.file, 'r');
      } catch {
        return; // not created yet
      }
    }
    const size = fstatSync(this.fd).size;
    if (size <= this.pos) return;
    const buf = Buffer.alloc(size - this.pos);
    const n = readSync(this.fd, buf, 0, buf.length, this.pos);
    this.pos += n;
    const text = this.partial + buf.subarray(0, n).toString('utf8');
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.trim()) continue;
      try {
        const v = JSON.parse(line) as unknown;
        if (v && typeof v === 'object' && !Array.isArray(v))
          this.onLine(v as Record<string, unknown>, arrivedHrMs);
      } catch {
        /* a non-JSON line (e.g. a crash trace) is not an event */
      }
    }
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
