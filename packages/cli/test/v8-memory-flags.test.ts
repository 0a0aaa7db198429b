// --v8_optimize_for_size and --v8_heap_growing_percent: V8 flags set at run time by `servekit serve`; a value V8
// would misread is refused before anything is served.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyV8MemoryFlags } from '../src/v8-memory.js';
import { BIN, FIX } from './cli-process.js';

describe('V8 memory flags', () => {
  it('accepts the defaults and a growing percent from 1 to 300; refuses others, naming the flag', () => {
    expect(() => applyV8MemoryFlags({ v8_optimize_for_size: false, v8_heap_growing_percent: 0 })).not.toThrow();
    for (const bad of [-5, 0.5, 301, Number.NaN]) {
      expect(() => applyV8MemoryFlags({ v8_optimize_for_size: false, v8_heap_growing_percent: bad })).toThrow(
        /--v8_heap_growing_percent must be an integer from 1 to 300/,
      );
    }
  });

  it('servekit serve exits 2 with the message for a bad percent', () => {
    const model = join(FIX, 'onnx/sklearn-onnx-docs/rf_iris');
    const bad = spawnSync(process.execPath, [BIN, 'serve', '--model_dir', model, '--v8_heap_growing_percent', '1000'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--v8_heap_growing_percent must be an integer from 1 to 300');
  });
});
