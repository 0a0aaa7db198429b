/**
 * Opcodes that name globals and call them: GLOBAL, STACK_GLOBAL, REDUCE, NEWOBJ(_EX), INST, OBJ, BUILD. Globals go
 * through the allow-list; calls build inert records or numpy values here, and nothing is ever executed. joblib's
 * NumpyArrayWrapper is honoured: the array bytes joblib writes right after the wrapper's BUILD are read from the
 * same stream. The extension registry and persistent ids are refused.
 */
import { type GlobalRole, resolveGlobal } from '../allow-list.js';
import { PickleFormatError, UnsafePickleError } from '../errors.js';
import { MAX_ARRAY_DIMS, PickleLimitError, SLOT_BYTES } from '../limits.js';
import { setMaskedArrayState } from '../masked-array.js';
import {
  arrayFromBytes,
  latin1,
  parseDTypeString,
  scalarFromBytes,
  setArrayState,
  setDTypeState,
  sizeOf,
} from '../numpy.js';
import type { DType, NdArray, PyDict, PyGlobal, PyObject, PyValue } from '../py-types.js';
import { isDType, isNdArray, isPyDict, isPyObject } from '../py-types.js';
import { OP } from './codes.js';
import type { OpFamily, UnpicklerState } from './state.js';

/** A global the allow-list accepted, with its role. */
interface ResolvedGlobal extends PyGlobal {
  role: GlobalRole;
}

/** Roles of the globals this module made, and the joblib wrappers: a global forged by the pickle has none. */
const roles = new WeakMap<object, GlobalRole>();
const JOBLIB_WRAPPER = 'joblib-wrapper';
/** Arrays made by numpy.ma's _mareconstruct that have not had their BUILD yet (their state carries a mask). */
const maskedPlaceholders = new WeakSet<NdArray>();

function resolved(module: string, name: string): ResolvedGlobal {
  const found = resolveGlobal(module, name);
  if (!found) throw new UnsafePickleError(`${module}.${name}`);
  const g: ResolvedGlobal = { kind: 'global', module: found.module, name, role: found.role };
  roles.set(g, found.role);
  return g;
}

function asGlobal(fn: PyValue, what: string): ResolvedGlobal {
  if (typeof fn !== 'object' || fn === null || (fn as { kind?: string }).kind !== 'global' || !roles.has(fn)) {
    throw new PickleFormatError(`corrupt pickle: ${what} target is not a global`);
  }
  return fn as ResolvedGlobal;
}

/**
 * A numpy array's declared shape, checked (non-negative integer dims) and charged to the budget
 * (elements × max(itemsize, 8)) before the array is allocated.
 */
function arrayShape(u: UnpicklerState, shapeV: PyValue[], dt: DType): number[] {
  if (shapeV.length > MAX_ARRAY_DIMS) {
    throw new PickleLimitError(`numpy array has ${shapeV.length} dimensions, over numpy's ${MAX_ARRAY_DIMS}`);
  }
  const shape = shapeV.map((d) => Number(d));
  let count = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new PickleFormatError(`numpy array has a bad dimension ${d}`);
    count *= d;
  }
  if (!Number.isSafeInteger(count)) throw new PickleLimitError('numpy array declares too many elements');
  u.budget.charge(count * Math.max(dt.itemsize, SLOT_BYTES), `a numpy array of shape [${shape.join(',')}]`);
  return shape;
}

function newObj(cls: PyValue, args: PyValue): PyValue {
  const g = asGlobal(cls, 'NEWOBJ');
  if (g.role === 'ordered-dict') return new Map();
  if (g.role === 'set' || g.role === 'frozenset') return { kind: 'set', items: [] };
  const obj: PyObject = {
    kind: 'object',
    module: g.module,
    name: g.name,
    args: Array.isArray(args) ? args : [],
    state: null,
  };
  if (g.role === JOBLIB_WRAPPER) roles.set(obj, JOBLIB_WRAPPER);
  return obj;
}

/** REDUCE: what calling the allowed global `fn` with `args` gives, rebuilt without running it. */
function call(u: UnpicklerState, fn: PyValue, args: PyValue): PyValue {
  const g = asGlobal(fn, 'REDUCE');
  const a = Array.isArray(args) ? args : [];
  switch (g.role) {
    case 'copyreg-reconstructor': {
      const cls = asGlobal(a[0] ?? null, 'copyreg._reconstructor');
      return newObj(cls, []);
    }
    case 'ndarray-reconstruct': {
      const arr: NdArray = { kind: 'ndarray', dtype: parseDTypeString('f8'), shape: [0], data: new Float64Array(0) };
      return arr;
    }
    case 'masked-array-reconstruct': {
      // _mareconstruct(MaskedArray, ndarray, (0,), 'b'): an empty array until BUILD gives it data and mask
      const arr: NdArray = { kind: 'ndarray', dtype: parseDTypeString('f8'), shape: [0], data: new Float64Array(0) };
      maskedPlaceholders.add(arr);
      return arr;
    }
    case 'ndarray-frombuffer': {
      const [buf, dt, shape, order] = a;
      if (!(buf instanceof Uint8Array) || !isDType(dt) || !Array.isArray(shape)) {
        throw new PickleFormatError('numpy _frombuffer arguments are malformed');
      }
      return arrayFromBytes(dt, arrayShape(u, shape, dt), buf, order === 'F');
    }
    case 'dtype': {
      const spec = a[0];
      if (typeof spec !== 'string') throw new PickleFormatError('numpy.dtype argument is not a type string');
      return parseDTypeString(spec);
    }
    case 'scalar': {
      const [dt, raw] = a;
      if (!isDType(dt)) throw new PickleFormatError('numpy scalar without a dtype');
      return scalarFromBytes(dt, raw ?? null);
    }
    case 'set':
    case 'frozenset':
      return { kind: 'set', items: Array.isArray(a[0]) ? [...(a[0] as PyValue[])] : [] };
    case 'slice':
      return { kind: 'slice', start: a[0] ?? null, stop: a[1] ?? null, step: a[2] ?? null };
    case 'complex':
      return { kind: 'complex', re: Number(a[0] ?? 0), im: Number(a[1] ?? 0) };
    case 'bytearray':
      return a[0] instanceof Uint8Array ? a[0].slice() : new Uint8Array(0);
    case 'ordered-dict': {
      const d: PyDict = new Map();
      if (Array.isArray(a[0])) for (const kv of a[0]) if (Array.isArray(kv)) d.set(kv[0] ?? null, kv[1] ?? null);
      return d;
    }
    case 'codecs-encode': {
      if (typeof a[0] !== 'string') throw new PickleFormatError('_codecs.encode argument is not a string');
      const enc = String(a[1] ?? 'utf-8').toLowerCase();
      if (enc === 'latin1' || enc === 'latin-1' || enc === 'iso-8859-1') return latin1(a[0]);
      if (enc === 'utf-8' || enc === 'utf8') return new TextEncoder().encode(a[0]);
      throw new PickleFormatError(`_codecs.encode with encoding '${enc}' is not supported`);
    }
    default:
      return newObj(g, a);
  }
}

/** BUILD: `obj` with `state` applied (numpy arrays and dtypes rebuilt, objects given their state). */
function build(u: UnpicklerState, obj: PyValue, state: PyValue): PyValue {
  if (isNdArray(obj) && maskedPlaceholders.has(obj)) {
    maskedPlaceholders.delete(obj);
    setMaskedArrayState(obj, state, (shapeV, dt) => arrayShape(u, shapeV, dt));
    return obj;
  }
  if (isNdArray(obj)) {
    if (Array.isArray(state)) {
      const [shapeV, dtV] = state.length === 5 ? state.slice(1) : state;
      if (Array.isArray(shapeV) && isDType(dtV)) arrayShape(u, shapeV, dtV);
    }
    setArrayState(obj, state);
    return obj;
  }
  if (isDType(obj)) {
    setDTypeState(obj, state);
    return obj;
  }
  if (isPyObject(obj)) {
    // (dict_state, slot_state) pairs: merge slots into the dict
    if (Array.isArray(state) && state.length === 2 && (isPyDict(state[0]) || state[0] === null) && isPyDict(state[1])) {
      const merged: PyDict = new Map(isPyDict(state[0]) ? state[0] : []);
      for (const [k, v] of state[1]) merged.set(k, v);
      obj.state = merged;
    } else obj.state = state;
    if (roles.get(obj) === JOBLIB_WRAPPER) return readJoblibArray(u, obj);
    return obj;
  }
  if (isPyDict(obj) && isPyDict(state)) {
    for (const [k, v] of state) obj.set(k, v);
    return obj;
  }
  throw new PickleFormatError('corrupt pickle: BUILD target cannot take state');
}

/** joblib: the array's bytes (or, for object arrays, a nested pickle) follow the wrapper in the stream. */
function readJoblibArray(u: UnpicklerState, wrapper: PyObject): NdArray {
  const st = wrapper.state;
  if (!isPyDict(st)) throw new PickleFormatError('joblib NumpyArrayWrapper has no state');
  const shapeV = st.get('shape');
  const dt = st.get('dtype');
  if (!Array.isArray(shapeV) || !isDType(dt))
    throw new PickleFormatError('joblib NumpyArrayWrapper state is malformed');
  const shape = arrayShape(u, shapeV, dt);
  if (dt.char === 'O') {
    const nested = u.loadNested();
    if (!isNdArray(nested)) throw new PickleFormatError('joblib object array did not unpickle to an array');
    return nested;
  }
  const align = st.get('numpy_array_alignment_bytes');
  if (typeof align === 'number') {
    const pad = u.r.u8('array padding');
    if (pad > 0) u.r.read(pad, 'array padding');
  }
  const nbytes = sizeOf(shape) * dt.itemsize;
  const bytes = u.r.read(nbytes, `array data (shape [${shape.join(',')}])`);
  // joblib writes an F-ordered array in its memory order (the C order of its transpose)
  return arrayFromBytes(dt, shape, bytes, st.get('order') === 'F');
}

function global(u: UnpicklerState): void {
  const module = u.r.line();
  const name = u.r.line();
  u.stack.push(resolved(module, name));
}

function stackGlobal(u: UnpicklerState): void {
  const name = u.pop();
  const module = u.pop();
  if (typeof module !== 'string' || typeof name !== 'string') {
    throw new PickleFormatError('corrupt pickle: STACK_GLOBAL needs two strings');
  }
  u.stack.push(resolved(module, name));
}

/** EXT1, EXT2, EXT4. */
function ext(): void {
  throw new PickleFormatError('pickle uses the copyreg extension registry (EXT1/2/4), which is not supported');
}

/** PERSID, BINPERSID. */
function persId(): void {
  throw new PickleFormatError('pickle uses persistent ids (PERSID), which are not supported');
}

function reduce(u: UnpicklerState): void {
  const args = u.pop();
  const fn = u.pop();
  u.stack.push(call(u, fn, args));
}

function newObjOp(u: UnpicklerState): void {
  const args = u.pop();
  const cls = u.pop();
  u.stack.push(newObj(cls, args));
}

function newObjEx(u: UnpicklerState): void {
  u.pop(); // kwargs
  newObjOp(u);
}

function inst(u: UnpicklerState): void {
  const cls = resolved(u.r.line(), u.r.line());
  u.stack.push(newObj(cls, u.popMarkCharged('tuple')));
}

function obj(u: UnpicklerState): void {
  const items = u.popMarkCharged('tuple');
  const cls = items.shift();
  u.stack.push(newObj(cls ?? null, items));
}

function buildOp(u: UnpicklerState): void {
  const state = u.pop();
  const target = u.top();
  const built = build(u, target, state);
  if (built !== target) u.stack[u.stack.length - 1] = built;
}

/** GLOBAL, STACK_GLOBAL, EXT1/2/4 and PERSID/BINPERSID (refused), REDUCE, NEWOBJ, NEWOBJ_EX, INST, OBJ, BUILD. */
export const OBJECT_OPS: OpFamily = [
  [OP.GLOBAL, global],
  [OP.STACK_GLOBAL, stackGlobal],
  [OP.EXT1, ext],
  [OP.EXT2, ext],
  [OP.EXT4, ext],
  [OP.PERSID, persId],
  [OP.BINPERSID, persId],
  [OP.REDUCE, reduce],
  [OP.NEWOBJ, newObjOp],
  [OP.NEWOBJ_EX, newObjEx],
  [OP.INST, inst],
  [OP.OBJ, obj],
  [OP.BUILD, buildOp],
];
