import type { StorageLogger } from './types.js';

/** The logger used when none is given: one line per message on stderr. */
export const stderrLogger: StorageLogger = {
  info: (msg) => process.stderr.write(`[servekit storage] ${msg}\n`),
  warn: (msg) => process.stderr.write(`[servekit storage] warning: ${msg}\n`),
};
