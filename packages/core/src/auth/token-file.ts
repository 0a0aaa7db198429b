import { createHash, timingSafeEqual } from 'node:crypto';
import { type FSWatcher, watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';
import { isBearerTokenSyntax } from './authenticator.js';

/** Time to let a burst of file events settle before re-reading the token file. */
const SETTLE_MS = 50;

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/**
 * Parse a token file: one token per line; blank lines and `#` comments skipped, surrounding whitespace trimmed.
 * Returns the tokens and the (1-based) numbers of lines that are not valid bearer tokens.
 */
export function parseTokenFile(text: string): { tokens: string[]; badLines: number[] } {
  const tokens: string[] = [];
  const badLines: number[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    if (isBearerTokenSyntax(line)) tokens.push(line);
    else badLines.push(i + 1);
  });
  return { tokens, badLines };
}

/**
 * The static bearer tokens of a file, kept as SHA-256 digests and compared in constant time (every digest is
 * compared, so neither a token's length nor its position leaks). Re-read when the file's folder changes (an editor's
 * rename, a Kubernetes Secret's symlink swap) and on SIGHUP, without a restart. Tokens are never logged.
 */
export class TokenFile {
  private digests: Buffer[] = [];
  private text?: string;
  private watcher?: FSWatcher;
  private settle?: NodeJS.Timeout;
  private reloading: Promise<void> = Promise.resolve();
  private readonly onHangup = () => this.scheduleReload('SIGHUP', 0);

  private constructor(
    readonly path: string,
    private readonly logger: Logger,
  ) {}

  /** Read `path` (an error when it cannot be read or has no valid token), then watch it and listen for SIGHUP. */
  static async open(path: string, logger: Logger): Promise<TokenFile> {
    const file = new TokenFile(path, logger);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      throw new Error(`--auth_token_file ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}).`);
    }
    const { tokens, badLines } = parseTokenFile(text);
    if (badLines.length > 0) {
      throw new Error(`--auth_token_file ${path}: line ${badLines.join(', ')} is not a valid bearer token.`);
    }
    if (tokens.length === 0) throw new Error(`--auth_token_file ${path} holds no token.`);
    file.apply(text, tokens);
    file.watch();
    process.on('SIGHUP', file.onHangup);
    return file;
  }

  /** Number of tokens accepted now. */
  get size(): number {
    return this.digests.length;
  }

  /** True when `token` is one of the file's tokens (constant time in the token's content and length). */
  has(token: string): boolean {
    const d = digest(token);
    let found = false;
    for (const k of this.digests) found = timingSafeEqual(d, k) || found;
    return found;
  }

  /** Re-read the file now; resolves once the new tokens (if the file could be read) are in use. */
  reload(cause = 'reload'): Promise<void> {
    this.reloading = this.reloading.then(() => this.read(cause));
    return this.reloading;
  }

  /** Stop watching the file and listening for SIGHUP. */
  close(): void {
    process.off('SIGHUP', this.onHangup);
    clearTimeout(this.settle);
    this.watcher?.close();
    this.watcher = undefined;
  }

  private apply(text: string, tokens: string[]): void {
    this.text = text;
    this.digests = [...new Set(tokens)].map(digest);
  }

  private watch(): void {
    const name = basename(this.path);
    try {
      // The folder, not the file: replacing the file (rename, Secret update) ends a watch on the file itself.
      this.watcher = watch(dirname(this.path), { persistent: false }, (_event, changed) => {
        if (changed === null || changed === name || changed.startsWith('..')) this.scheduleReload('change', SETTLE_MS);
      });
      this.watcher.on('error', (err) => this.logger.warn({ err: err.message }, 'auth token file: watch failed'));
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'auth token file: cannot watch it; reload with SIGHUP');
    }
  }

  private scheduleReload(cause: string, delayMs: number): void {
    clearTimeout(this.settle);
    this.settle = setTimeout(() => void this.reload(cause), delayMs);
    this.settle.unref();
  }

  private async read(cause: string): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      // Mid-replacement or removed: keep the tokens in use, the next change reloads.
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      this.logger.warn({ cause, code }, 'auth token file cannot be read; keeping the tokens in use');
      return;
    }
    if (text === this.text) return;
    const { tokens, badLines } = parseTokenFile(text);
    this.apply(text, tokens);
    if (badLines.length > 0)
      this.logger.warn({ lines: badLines }, 'auth token file: lines skipped (not bearer tokens)');
    if (tokens.length === 0) this.logger.warn({ cause }, 'auth token file holds no token: every request is refused');
    else this.logger.info({ cause, tokens: this.digests.length }, 'auth token file reloaded');
  }
}
