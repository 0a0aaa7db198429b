import type { DownloadProgress, StorageLogger } from './types.js';

const MB = 1024 * 1024;

/** Format a byte count as MB with one decimal. */
export function formatMB(bytes: number): string {
  return `${(bytes / MB).toFixed(1)} MB`;
}

/** Reports download progress: a redrawn line on a TTY, else a log line every few seconds, and a summary. */
export class ProgressReporter {
  private bytesDone = 0;
  private readonly started = Date.now();
  private lastDraw = 0;
  private drewTty = false;
  private readonly tty: NodeJS.WritableStream | undefined;

  constructor(
    private readonly uri: string,
    private readonly logger: StorageLogger,
    private readonly bytesTotal: number | undefined,
    stream: NodeJS.WritableStream | false | undefined,
    private readonly onProgress: ((p: DownloadProgress) => void) | undefined,
    private readonly logEveryMs = 5000,
  ) {
    this.tty = stream && (stream as { isTTY?: boolean }).isTTY ? stream : undefined;
  }

  /** Count `n` bytes written for `object`. */
  add(object: string, n: number): void {
    this.bytesDone += n;
    this.onProgress?.({ uri: this.uri, object, bytesDone: this.bytesDone, bytesTotal: this.bytesTotal });
    const now = Date.now();
    if (this.tty) {
      if (now - this.lastDraw >= 100) {
        this.lastDraw = now;
        this.drewTty = true;
        this.tty.write(`\r\x1b[K${this.line(now)}`);
      }
    } else if (now - this.lastDraw >= this.logEveryMs) {
      if (this.lastDraw !== 0) this.logger.info(this.line(now));
      this.lastDraw = now;
    }
  }

  /** Undo bytes counted for an attempt that is restarted from scratch. */
  rewind(n: number): void {
    this.bytesDone -= n;
  }

  /** Bytes counted so far. */
  get done(): number {
    return this.bytesDone;
  }

  /** End the TTY line and log the summary. */
  finish(files: number): void {
    if (this.drewTty) this.tty?.write(`\r\x1b[K${this.line(Date.now())}\n`);
    const secs = Math.max(0.001, (Date.now() - this.started) / 1000);
    this.logger.info(
      `downloaded ${this.uri}: ${files} file(s), ${formatMB(this.bytesDone)} in ${secs.toFixed(1)} s (${formatMB(this.bytesDone / secs)}/s)`,
    );
  }

  /** One progress line: bytes, percentage, speed. */
  private line(now: number): string {
    const secs = Math.max(0.001, (now - this.started) / 1000);
    const total = this.bytesTotal;
    const pct = total ? ` (${Math.floor((100 * this.bytesDone) / total)}%)` : '';
    const of = total ? ` / ${formatMB(total)}` : '';
    return `downloading ${this.uri}: ${formatMB(this.bytesDone)}${of}${pct} at ${formatMB(this.bytesDone / secs)}/s`;
  }
}
