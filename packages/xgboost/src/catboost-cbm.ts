/**
 * Reader for CatBoost binary models (`.cbm`): the "CBM1" magic, a little-endian uint32 size, then a flatbuffer
 * `TModelCore` (catboost/libs/model/flatbuffers/model.fbs and features.fbs), then optional model parts (CTR tables).
 * The flatbuffer becomes the same document `save_model(format="json")` writes, so one reader converts both:
 * `TreeSplits` index the model's binary features, which are every float feature's borders in order, then every
 * one-hot feature's values, then the CTRs (TModelTrees::UpdateRuntimeData).
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Upper bound on any vector the reader materializes (elements). */
const MAX_ELEMENTS = 50_000_000;

/** A bounds-checked view of one flatbuffer. */
class FlatBuffer {
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private check(pos: number, size: number, what: string): void {
    if (!(Number.isInteger(pos) && pos >= 0 && pos + size <= this.bytes.length)) {
      throw new Error(`the flatbuffer's ${what} at byte ${pos} lies outside its ${this.bytes.length} bytes`);
    }
  }

  u8(pos: number): number {
    this.check(pos, 1, 'byte');
    return this.view.getUint8(pos);
  }
  u16(pos: number): number {
    this.check(pos, 2, 'uint16');
    return this.view.getUint16(pos, true);
  }
  i32(pos: number): number {
    this.check(pos, 4, 'int32');
    return this.view.getInt32(pos, true);
  }
  u32(pos: number): number {
    this.check(pos, 4, 'uint32');
    return this.view.getUint32(pos, true);
  }
  f32(pos: number): number {
    this.check(pos, 4, 'float');
    return this.view.getFloat32(pos, true);
  }
  f64(pos: number): number {
    this.check(pos, 8, 'double');
    return this.view.getFloat64(pos, true);
  }

  /** The table the uoffset at `pos` points to. */
  table(pos: number): Table {
    return new Table(this, pos + this.u32(pos));
  }

  /** Start and length of the vector the uoffset at `pos` points to. */
  vector(pos: number, elementSize: number, what: string): { start: number; length: number } {
    const at = pos + this.u32(pos);
    const length = this.u32(at);
    if (length > MAX_ELEMENTS) throw new Error(`${what} has ${length} elements, over ${MAX_ELEMENTS}`);
    this.check(at + 4, length * elementSize, what);
    return { start: at + 4, length };
  }

  /** The UTF-8 string the uoffset at `pos` points to. */
  string(pos: number, what: string): string {
    const { start, length } = this.vector(pos, 1, what);
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset + start, length).toString('utf8');
  }
}

/** One flatbuffer table: fields by their slot number in the schema. */
class Table {
  private readonly vtable: number;
  private readonly vtableSize: number;

  constructor(
    private readonly fb: FlatBuffer,
    private readonly pos: number,
  ) {
    this.vtable = pos - fb.i32(pos);
    this.vtableSize = fb.u16(this.vtable);
  }

  /** Absolute position of field `slot`, or undefined when absent (the default applies). */
  private field(slot: number): number | undefined {
    const at = 4 + 2 * slot;
    if (at + 2 > this.vtableSize) return undefined;
    const off = this.fb.u16(this.vtable + at);
    return off === 0 ? undefined : this.pos + off;
  }

  int(slot: number, fallback: number): number {
    const p = this.field(slot);
    return p === undefined ? fallback : this.fb.i32(p);
  }
  byte(slot: number, fallback: number): number {
    const p = this.field(slot);
    return p === undefined ? fallback : this.fb.u8(p);
  }
  double(slot: number, fallback: number): number {
    const p = this.field(slot);
    return p === undefined ? fallback : this.fb.f64(p);
  }
  string(slot: number, what: string): string | undefined {
    const p = this.field(slot);
    return p === undefined ? undefined : this.fb.string(p, what);
  }
  table(slot: number): Table | undefined {
    const p = this.field(slot);
    return p === undefined ? undefined : this.fb.table(p);
  }
  ints(slot: number, what: string): number[] {
    const p = this.field(slot);
    if (p === undefined) return [];
    const { start, length } = this.fb.vector(p, 4, what);
    return Array.from({ length }, (_, i) => this.fb.i32(start + 4 * i));
  }
  floats(slot: number, what: string): number[] {
    const p = this.field(slot);
    if (p === undefined) return [];
    const { start, length } = this.fb.vector(p, 4, what);
    return Array.from({ length }, (_, i) => this.fb.f32(start + 4 * i));
  }
  doubles(slot: number, what: string): number[] {
    const p = this.field(slot);
    if (p === undefined) return [];
    const { start, length } = this.fb.vector(p, 8, what);
    return Array.from({ length }, (_, i) => this.fb.f64(start + 8 * i));
  }
  /** Number of elements of a vector field (0 when absent). */
  count(slot: number, elementSize: number, what: string): number {
    const p = this.field(slot);
    return p === undefined ? 0 : this.fb.vector(p, elementSize, what).length;
  }
  tables(slot: number, what: string): Table[] {
    const p = this.field(slot);
    if (p === undefined) return [];
    const { start, length } = this.fb.vector(p, 4, what);
    return Array.from({ length }, (_, i) => this.fb.table(start + 4 * i));
  }
  strings(slot: number, what: string): string[] {
    const p = this.field(slot);
    if (p === undefined) return [];
    const { start, length } = this.fb.vector(p, 4, what);
    return Array.from({ length }, (_, i) => this.fb.string(start + 4 * i, what));
  }
}

// Field slots, in schema order (model.fbs, features.fbs).
const CORE = { modelTrees: 1, infoMap: 2 } as const;
const TREES = {
  approxDimension: 0,
  treeSplits: 1,
  treeSizes: 2,
  catFeatures: 4,
  floatFeatures: 5,
  oneHotFeatures: 6,
  ctrFeatures: 7,
  leafValues: 8,
  nonSymmetricStepNodes: 10,
  textFeatures: 12,
  estimatedFeatures: 13,
  scale: 14,
  bias: 15,
  multiBias: 16,
  embeddingFeatures: 18,
} as const;
const FLOAT_FEATURE = { index: 1, flatIndex: 2, borders: 3, featureId: 4, nanTreatment: 5 } as const;
const CAT_FEATURE = { index: 0, flatIndex: 1, featureId: 2 } as const;
const ONE_HOT = { index: 0, values: 1, stringValues: 2 } as const;
const NAN_TREATMENT = ['AsIs', 'AsFalse', 'AsTrue'];

/** The CatBoost JSON document (`save_model(format="json")` layout) equal to a `.cbm` file's model. */
export function cbmToJsonDocument(bytes: Uint8Array): { [key: string]: Json } {
  if (Buffer.from(bytes.subarray(0, 4)).toString('latin1') !== 'CBM1') {
    throw new Error('not a CatBoost binary model (no "CBM1" header)');
  }
  if (bytes.length < 8) throw new Error('the file ends inside its 8-byte header');
  const size = new DataView(bytes.buffer, bytes.byteOffset + 4, 4).getUint32(0, true);
  if (size < 8 || 8 + size > bytes.length) {
    throw new Error(`the model core is ${size} bytes but the file has ${bytes.length - 8} after the header`);
  }
  const fb = new FlatBuffer(bytes.subarray(8, 8 + size));
  const core = fb.table(0);
  const trees = core.table(CORE.modelTrees);
  if (!trees) throw new Error('the model core has no trees');

  if (trees.count(TREES.nonSymmetricStepNodes, 4, 'NonSymmetricStepNodes') > 0) {
    throw new Error(
      'the model has non-symmetric trees (grow_policy Depthwise or Lossguide); servekit converts oblivious ' +
        '(SymmetricTree) models only',
    );
  }
  for (const [slot, what] of [
    [TREES.textFeatures, 'text'],
    [TREES.estimatedFeatures, 'estimated'],
    [TREES.embeddingFeatures, 'embedding'],
  ] as const) {
    if (trees.count(slot, 4, what) > 0)
      throw new Error(`the model uses ${what} features, which servekit cannot evaluate`);
  }
  const ctrs = trees.tables(TREES.ctrFeatures, 'CtrFeatures');

  // binary features, in CatBoost's order: float borders, then one-hot values, then CTRs
  const splits: Json[] = [];
  const floatFeatures = trees.tables(TREES.floatFeatures, 'FloatFeatures').map((f, i) => {
    const where = `FloatFeatures[${i}]`;
    const index = f.int(FLOAT_FEATURE.index, -1);
    const borders = f.floats(FLOAT_FEATURE.borders, `${where}.Borders`);
    for (const border of borders) splits.push({ split_type: 'FloatFeature', float_feature_index: index, border });
    const id = f.string(FLOAT_FEATURE.featureId, `${where}.FeatureId`);
    return {
      feature_index: index,
      flat_feature_index: f.int(FLOAT_FEATURE.flatIndex, -1),
      borders,
      nan_value_treatment: NAN_TREATMENT[f.byte(FLOAT_FEATURE.nanTreatment, 0)] ?? 'AsIs',
      ...(id ? { feature_id: id } : {}),
    };
  });
  const oneHot = new Map<number, { values: number[]; strings: string[] }>();
  trees.tables(TREES.oneHotFeatures, 'OneHotFeatures').forEach((f, i) => {
    const where = `OneHotFeatures[${i}]`;
    const index = f.int(ONE_HOT.index, -1);
    const values = f.ints(ONE_HOT.values, `${where}.Values`);
    for (const value of values) splits.push({ split_type: 'OneHotFeature', cat_feature_index: index, value });
    oneHot.set(index, { values, strings: f.strings(ONE_HOT.stringValues, `${where}.StringValues`) });
  });
  // a CTR (TCtrFeature: Ctr, Borders) gives one binary feature per border
  ctrs.forEach((c, i) => {
    for (const border of c.floats(1, `CtrFeatures[${i}].Borders`)) splits.push({ split_type: 'OnlineCtr', border });
  });
  const catFeatures = trees.tables(TREES.catFeatures, 'CatFeatures').map((f, i) => {
    const index = f.int(CAT_FEATURE.index, -1);
    const id = f.string(CAT_FEATURE.featureId, `CatFeatures[${i}].FeatureId`);
    const oh = oneHot.get(index);
    return {
      feature_index: index,
      flat_feature_index: f.int(CAT_FEATURE.flatIndex, -1),
      ...(oh ? { values: oh.values } : {}),
      ...(oh && oh.strings.length === oh.values.length ? { string_values: oh.strings } : {}),
      ...(id ? { feature_id: id } : {}),
    };
  });

  const dims = Math.max(trees.int(TREES.approxDimension, 1), 1);
  const treeSplits = trees.ints(TREES.treeSplits, 'TreeSplits');
  const sizes = trees.ints(TREES.treeSizes, 'TreeSizes');
  const leaves = trees.doubles(TREES.leafValues, 'LeafValues');
  let splitAt = 0;
  let leafAt = 0;
  const oblivious = sizes.map((depth, t) => {
    if (!(depth >= 0 && depth <= 16)) throw new Error(`tree ${t} has depth ${depth}`);
    const ids = treeSplits.slice(splitAt, splitAt + depth);
    if (ids.length !== depth) throw new Error(`TreeSplits ends inside tree ${t}`);
    splitAt += depth;
    const n = 2 ** depth * dims;
    const leafValues = leaves.slice(leafAt, leafAt + n);
    if (leafValues.length !== n) throw new Error(`LeafValues ends inside tree ${t}`);
    leafAt += n;
    return {
      splits: ids.map((id, l) => {
        const s = splits[id];
        if (s === undefined) throw new Error(`tree ${t} level ${l} names binary feature ${id} of ${splits.length}`);
        return s;
      }),
      leaf_values: leafValues,
    };
  });
  if (splitAt !== treeSplits.length || leafAt !== leaves.length) {
    throw new Error('TreeSplits / LeafValues hold more than the trees of TreeSizes use');
  }

  const multiBias = trees.doubles(TREES.multiBias, 'MultiBias');
  const bias = multiBias.length > 0 ? multiBias : [trees.double(TREES.bias, 0)];
  const info: { [key: string]: Json } = {};
  for (const kv of core.tables(CORE.infoMap, 'InfoMap')) {
    const key = kv.string(0, 'InfoMap key');
    const value = kv.string(1, 'InfoMap value');
    if (key === undefined || value === undefined) continue;
    try {
      info[key] = key === 'params' ? (JSON.parse(value) as Json) : value;
    } catch {
      throw new Error('InfoMap "params" is not JSON');
    }
  }
  return {
    features_info: {
      float_features: floatFeatures,
      categorical_features: catFeatures,
      ...(ctrs.length > 0 ? { ctrs: ctrs.map(() => ({})) } : {}),
    },
    oblivious_trees: oblivious,
    scale_and_bias: [trees.double(TREES.scale, 1), bias],
    model_info: info,
  };
}
