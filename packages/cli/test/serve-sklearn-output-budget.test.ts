// `servekit serve --max_decoded_bytes` also bounds what a scikit-learn model answers (a dense neighbours graph).
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killAll, post, ROOT, serve, stop } from './cli-process.js';

const FIXTURES = join(ROOT, 'packages/sklearn/test/fixtures/neighbors');
const dir = mkdtempSync(join(tmpdir(), 'servekit-sklearn-budget-'));

afterAll(() => {
  killAll();
  rmSync(dir, { recursive: true, force: true });
});

describe('servekit serve --max_decoded_bytes with a KNeighborsTransformer of 3000 training rows', () => {
  it('2 rows × 3000 columns × 8 bytes = 48000 is a 413 under a 40000-byte budget; 1 row is served', async () => {
    mkdirSync(join(dir, 'graph'));
    copyFileSync(join(FIXTURES, 'kneighbors_transformer_wide.joblib'), join(dir, 'graph', 'model.joblib'));
    const r = await serve(['--model_dir', join(dir, 'graph'), '--model_name', 'graph', '--max_decoded_bytes', '40000']);
    const rows = [
      [0.1, 0.2],
      [0.3, 0.4],
    ];
    const big = await post(`${r.base}/v1/models/graph:predict`, { instances: rows });
    expect(big.status).toBe(413);
    expect(String(big.body.error)).toMatch(/transform of 2 rows × 3000 columns would decode to 48000 bytes/);
    const one = await post(`${r.base}/v1/models/graph:predict`, { instances: rows.slice(0, 1) });
    expect(one.status).toBe(200);
    expect((one.body.predictions as number[][])[0]!.length).toBe(3000);
    expect(await stop(r)).toBe(0);
  });
});
