import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  convertLightGBMText,
  loadLightGBMModel,
  loadTreeModel,
  loadXGBoostModel,
  TreeModelError,
} from '../src/index.js';
import { float32AtOrBelow } from '../src/lightgbm-text.js';
import { expectClose, fixture, runConverted } from './helpers.js';

interface LgbExpected {
  kserve_test: {
    request_v2_input: { shape: number[]; data: number[][] };
    response_v2_outputs: { shape: number[]; data: number[] }[];
  };
}

describe("KServe's lgbserver example (LightGBM text model saved as model.bst, multiclass)", () => {
  const path = fixture('kserve-examples/lightgbm_iris/model.bst');
  const expected = JSON.parse(
    readFileSync(fixture('kserve-examples/lightgbm_iris/expected.json'), 'utf8'),
  ) as LgbExpected;

  it("equals the probabilities KServe's test asserts", async () => {
    const m = await loadLightGBMModel(path);
    expect(m.kind).toBe('classifier');
    expect(m.numClass).toBe(3);
    expect(m.numFeatures).toBe(4);
    expect(m.objective).toBe('multiclass num_class:3');
    expect(m.featureNames).toEqual(['sepal_length_(cm)', 'sepal_width_(cm)', 'petal_length_(cm)', 'petal_width_(cm)']);
    const out = await runConverted(m, expected.kserve_test.request_v2_input.data);
    const want = expected.kserve_test.response_v2_outputs[0]!;
    expect(out.predictDims).toEqual(want.shape);
    expectClose(out.predict, want.data, 'lightgbm_iris predict');
    // The margin is the raw score; its softmax is the prediction.
    for (let r = 0; r < 2; r++) {
      const raw = out.margin.slice(r * 3, r * 3 + 3);
      const mx = Math.max(...raw);
      const e = raw.map((v) => Math.exp(v - mx));
      const s = e.reduce((a, b) => a + b, 0);
      expectClose(
        out.predict.slice(r * 3, r * 3 + 3),
        e.map((v) => v / s),
        'softmax(margin)',
      );
    }
  });

  it('answers class 0 for the V1 setosa row, as the KServe test asserts', async () => {
    const out = await runConverted(await loadLightGBMModel(path), [[5.1, 3.5, 1.4, 0.2]]);
    expect(out.predict.indexOf(Math.max(...out.predict))).toBe(0);
  });

  it('is detected as LightGBM by content, and refused by the XGBoost loader with a clear error', async () => {
    expect((await loadTreeModel(path)).format).toBe('lightgbm-text');
    await expect(loadXGBoostModel(path)).rejects.toThrow(`${path}: not an XGBoost model`);
  });
});

/** A two-tree LightGBM regression model: tree 0 splits on x0 (threshold t0) then x1 (threshold -0.5). */
function model(opts: { dt0?: number; dt1?: number; t0?: string; objective?: string; extraHeader?: string }): string {
  return [
    'tree',
    'version=v4',
    'num_class=1',
    'num_tree_per_iteration=1',
    'label_index=0',
    'max_feature_idx=1',
    `objective=${opts.objective ?? 'regression'}`,
    ...(opts.extraHeader ? [opts.extraHeader] : []),
    'feature_names=a b',
    'feature_infos=[-1:1] [-1:1]',
    'tree_sizes=300 200',
    '',
    'Tree=0',
    'num_leaves=3',
    'num_cat=0',
    'split_feature=0 1',
    'split_gain=1 1',
    `threshold=${opts.t0 ?? '0.10000000000000001'} -0.5`,
    `decision_type=${opts.dt0 ?? 10} ${opts.dt1 ?? 10}`,
    'left_child=-1 -2',
    'right_child=1 -3',
    'leaf_value=1 2 4',
    'leaf_weight=1 1 1',
    'leaf_count=1 1 1',
    'internal_value=0 0',
    'internal_weight=0 0',
    'internal_count=3 2',
    'is_linear=0',
    'shrinkage=1',
    '',
    '',
    'Tree=1',
    'num_leaves=1',
    'num_cat=0',
    'leaf_value=0.5',
    'is_linear=0',
    'shrinkage=1',
    '',
    '',
    'end of trees',
    '',
  ].join('\n');
}

const NaN_ = Number.NaN;
// decision_type bits: 1 categorical, 2 default_left, (missing_type << 2) with 0 none, 1 zero, 2 NaN.
const NAN_LEFT = 2 | (2 << 2);
const NAN_RIGHT = 2 << 2;
const NONE = 0;
const ZERO_RIGHT = 1 << 2;
const ZERO_LEFT = 2 | (1 << 2);

describe('LightGBM semantics (hand-written text models)', () => {
  const cases: { name: string; dt0: number; dt1?: number; rows: [number, number, number][] }[] = [
    // rows: [x0, x1, expected raw score]; tree 0 leaves: x0 <= 0.1 → 1, else x1 <= -0.5 → 2 else 4; tree 1 adds 0.5.
    {
      name: 'missing NaN, default left',
      dt0: NAN_LEFT,
      rows: [
        [NaN_, 0, 1.5],
        [0.05, 0, 1.5],
        [0.5, -1, 2.5],
        [0.5, 0, 4.5],
      ],
    },
    {
      name: 'missing NaN, default right',
      dt0: NAN_RIGHT,
      rows: [
        [NaN_, -1, 2.5],
        [NaN_, 0, 4.5],
        [-1, 0, 1.5],
      ],
    },
    // missing_type None: NaN is treated as 0: 0 <= 0.1 goes left at the first split, 0 > -0.5 right at the second.
    {
      name: 'missing none (NaN → 0)',
      dt0: NONE,
      dt1: NONE,
      rows: [
        [NaN_, 3, 1.5],
        [0.2, NaN_, 4.5],
      ],
    },
    // missing_type Zero, default right: 0, tiny values and NaN go right, others compare.
    {
      name: 'missing zero, default right',
      dt0: ZERO_RIGHT,
      rows: [
        [0, -1, 2.5],
        [NaN_, 0, 4.5],
        [1e-36, 0, 4.5],
        [-0.3, 0, 1.5],
        [0.05, 0, 1.5],
        [0.2, -1, 2.5],
      ],
    },
    // missing_type Zero, default left on the second split (threshold -0.5): 0 and NaN go left though 0 > -0.5.
    {
      name: 'missing zero, default left',
      dt0: NAN_LEFT,
      dt1: ZERO_LEFT,
      rows: [
        [1, 0, 2.5],
        [1, NaN_, 2.5],
        [1, -1, 2.5],
        [1, 0.3, 4.5],
        [1, -0.4, 4.5],
      ],
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const m = convertLightGBMText(model({ dt0: c.dt0, ...(c.dt1 === undefined ? {} : { dt1: c.dt1 }) }));
      expect(m.kind).toBe('regressor');
      const out = await runConverted(
        m,
        c.rows.map((r) => [r[0], r[1]]),
      );
      expect(out.predict).toEqual(c.rows.map((r) => r[2]));
      expect(out.margin).toEqual(c.rows.map((r) => r[2]));
    });
  }

  it('compares like LightGBM (double threshold, x <= t) for float32 inputs just above the threshold', async () => {
    // float32(0.1) = 0.100000001490116 > 0.1 (double): LightGBM sends it right; float32(0.1) <= float32(0.1) would not.
    expect(float32AtOrBelow(0.1)).toBeLessThan(0.1);
    expect(float32AtOrBelow(0.5)).toBe(0.5);
    const m = convertLightGBMText(model({ dt0: NAN_LEFT }));
    const out = await runConverted(m, [
      [Math.fround(0.1), 0],
      [float32AtOrBelow(0.1), 0],
    ]);
    expect(out.predict).toEqual([4.5, 1.5]);
  });

  it('binary objective with sigmoid:2 gives 1 / (1 + exp(-2·raw))', async () => {
    const m = convertLightGBMText(model({ objective: 'binary sigmoid:2' }));
    expect(m.kind).toBe('classifier');
    expect(m.numClass).toBe(2);
    const out = await runConverted(m, [
      [0, 0],
      [1, -1],
    ]);
    expect(out.margin).toEqual([1.5, 2.5]);
    expectClose(out.predict, [1 / (1 + Math.exp(-3)), 1 / (1 + Math.exp(-5))], 'sigmoid');
  });

  it('average_output (random forest mode) averages the trees', async () => {
    const m = convertLightGBMText(model({ extraHeader: 'average_output' }));
    const out = await runConverted(m, [[1, 1]]);
    expect(out.predict).toEqual([2.25]);
  });

  it('poisson uses exp; regression sqrt squares back', async () => {
    const p = await runConverted(convertLightGBMText(model({ objective: 'poisson' })), [[0, 0]]);
    expectClose(p.predict, [Math.exp(1.5)], 'poisson');
    const s = await runConverted(convertLightGBMText(model({ objective: 'regression sqrt' })), [[0, 0]]);
    expect(s.predict).toEqual([2.25]);
  });

  it('refuses categorical splits without category sets, and linear trees, with errors naming the tree', () => {
    expect(() => convertLightGBMText(model({ dt0: 1 }), 'cat.txt')).toThrow(
      'cat.txt: cannot read LightGBM text model: Tree=0 node 0: category set 0.1 does not exist (num_cat=0)',
    );
    expect(() => convertLightGBMText(model({}).replace('num_cat=0', 'num_cat=1'), 'cat.txt')).toThrow(
      /cat\.txt: .*Tree=0: missing cat_boundaries=/,
    );
    expect(() => convertLightGBMText(model({}).replace('is_linear=0', 'is_linear=1'), 'lin.txt')).toThrow(
      /lin\.txt: .*Tree=0 is a linear tree/,
    );
  });

  it('reports truncated and malformed files', () => {
    const text = model({});
    const cut = text.slice(0, text.indexOf('Tree=1'));
    expect(() => convertLightGBMText(cut, 'cut.txt')).toThrow(/cut\.txt: .*truncated: no "end of trees"/);
    expect(() => convertLightGBMText(text.replace('leaf_value=1 2 4', 'leaf_value=1 2'), 'bad.txt')).toThrow(
      /bad\.txt: .*Tree=0: leaf_value has 2 values, expected 3/,
    );
    expect(() => convertLightGBMText(text.replace('left_child=-1 -2', 'left_child=-1 7'), 'bad.txt')).toThrow(
      /Tree=0: node 7 out of range/,
    );
    expect(() => convertLightGBMText(text.replace('objective=regression', 'objective=weird'), 'o.txt')).toThrow(
      /o\.txt: .*objective "weird" is not supported/,
    );
    expect(() => convertLightGBMText('', 'empty.txt')).toThrow(TreeModelError);
  });
});
