/**
 * A restricted unpickler for pickle protocols 0-5. It interprets the opcodes itself and never runs
 * Python: globals go through the allow-list (allow-list.ts), and calls (REDUCE, NEWOBJ, BUILD) on
 * them produce inert records or numpy arrays rebuilt here. joblib's NumpyArrayWrapper is honoured:
 * the array bytes that joblib writes right after the wrapper's BUILD are read from the same stream.
 */
import { type GlobalRole, resolveGlobal } from './allow-list.js';
import { ByteReader } from './byte-reader.js';
import { PickleFormatError, UnsafePickleError } from './errors.js';
import {
  MAX_ARRAY_DIMS,
  PickleBudget,
  PickleLimitError,
  type PickleLimits,
  pickleLimits,
  SLOT_BYTES,
} from './limits.js';
import {
  arrayFromBytes,
  latin1,
  parseDTypeString,
  scalarFromBytes,
  setArrayState,
  setDTypeState,
  sizeOf,
} from './numpy.js';
import type { DType, NdArray, PyDict, PyGlobal, PyObject, PyValue } from './py-types.js';
import { isDType, isNdArray, isPyDict, isPyObject } from './py-types.js';

const MARK = Symbol('mark');
type StackItem = PyValue | typeof MARK;

/** A global the allow-list accepted, with its role. */
interface ResolvedGlobal extends PyGlobal {
  role: GlobalRole;
}

const roles = new WeakMap<object, GlobalRole>();
const JOBLIB_WRAPPER = 'joblib-wrapper';

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeUtf8(b: Uint8Array): string {
  try {
    return utf8.decode(b);
  } catch {
    throw new PickleFormatError('corrupt pickle: a unicode string is not valid UTF-8');
  }
}

/** A little-endian two's complement integer (LONG1/LONG4), in time linear in its length. */
export function longFromBytes(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0;
  // Big-endian hex of the bytes, parsed once: BigInt('0x…') is linear, unlike a shift-or per byte.
  let v = BigInt(`0x${Buffer.from(b).reverse().toString('hex')}`);
  if (b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function checkLongLength(bytes: number, limits: PickleLimits): void {
  if (bytes > limits.maxLongBytes) {
    throw new PickleLimitError(
      `refusing to load pickle: it holds a ${bytes}-byte integer, over the ${limits.maxLongBytes}-byte cap for one int (no model needs such a number)`,
    );
  }
}

function parseIntText(s: string, limits: PickleLimits): number | bigint | boolean {
  // ~2.41 decimal digits per byte; sign, 'L' and spaces aside.
  checkLongLength(Math.floor((s.length - 2) / 2.41), limits);
  const t = s.trim().replace(/L$/, '');
  if (t === '00') return false;
  if (t === '01') return true;
  if (!/^[-+]?\d+$/.test(t)) throw new PickleFormatError(`corrupt pickle: bad integer literal '${s}'`);
  const b = BigInt(t);
  return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
}

function unquote(s: string): Uint8Array {
  const q = s[0];
  if ((q !== "'" && q !== '"') || s[s.length - 1] !== q)
    throw new PickleFormatError('corrupt pickle: bad STRING literal');
  const body = s.slice(1, -1);
  const out: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      out.push(c.charCodeAt(0) & 0xff);
      continue;
    }
    const n = body[++i];
    const simple: Record<string, number> = { n: 10, r: 13, t: 9, '\\': 92, "'": 39, '"': 34, a: 7, b: 8, f: 12, v: 11 };
    if (n !== undefined && simple[n] !== undefined) out.push(simple[n]!);
    else if (n === 'x') {
      out.push(Number.parseInt(body.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (n !== undefined && /[0-7]/.test(n)) {
      const m = /^[0-7]{1,3}/.exec(body.slice(i))![0];
      out.push(Number.parseInt(m, 8) & 0xff);
      i += m.length - 1;
    } else throw new PickleFormatError('corrupt pickle: bad escape in STRING literal');
  }
  return Uint8Array.from(out);
}

function rawUnicodeEscape(s: string): string {
  return s.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_m, a: string | undefined, b: string | undefined) =>
    String.fromCodePoint(Number.parseInt((a ?? b)!, 16)),
  );
}

/** Options of one unpickle run: the size caps (limits.ts), defaults for the ones left out. */
export type UnpickleOptions = Partial<PickleLimits>;

/** Unpickle one pickle (up to its STOP opcode) from the reader's position, without executing anything. */
export function unpickle(reader: ByteReader, options: UnpickleOptions = {}): PyValue {
  return new RestrictedUnpickler(reader, new PickleBudget(pickleLimits(options)), { n: 0 }).load();
}

/** Unpickle a whole byte buffer (a plain .pkl/.pickle or a decompressed joblib stream). */
export function unpickleBytes(bytes: Uint8Array, options: UnpickleOptions = {}): PyValue {
  return unpickle(new ByteReader(bytes), options);
}

class RestrictedUnpickler {
  private stack: StackItem[] = [];
  private readonly memo = new Map<number, PyValue>();

  constructor(
    private readonly r: ByteReader,
    private readonly budget: PickleBudget,
    /** Opcodes executed, shared with nested unpicklers (joblib object arrays). */
    private readonly ops: { n: number },
  ) {}

  private get limits(): PickleLimits {
    return this.budget.limits;
  }

  /** `n` bytes of a string/bytes opcode, charged to the budget before anything is copied or decoded. */
  private bytesOf(n: number, what: string): Uint8Array {
    if (n > this.r.remaining) this.r.read(n, what); // throws the truncation error
    this.budget.charge(n, `a ${n}-byte ${what}`);
    return this.r.read(n, what);
  }

  /** Items popped to MARK, charged as container slots. */
  private popMarkCharged(what: string): PyValue[] {
    const items = this.popMark();
    this.budget.charge(items.length * SLOT_BYTES, `a ${what} of ${items.length} items`);
    return items;
  }

  private memoSet(i: number, v: PyValue): void {
    if (!Number.isSafeInteger(i) || i < 0) throw new PickleFormatError('corrupt pickle: bad memo index');
    if (!this.memo.has(i)) {
      if (this.memo.size >= this.limits.maxMemoEntries) {
        throw new PickleLimitError(`pickle memo exceeds ${this.limits.maxMemoEntries} entries`);
      }
      this.budget.charge(2 * SLOT_BYTES, 'a memo entry');
    }
    this.memo.set(i, v);
  }

  private pop(): PyValue {
    if (this.stack.length === 0) throw new PickleFormatError('corrupt pickle: stack underflow');
    const v = this.stack.pop()!;
    if (v === MARK) throw new PickleFormatError('corrupt pickle: unexpected MARK on the stack');
    return v;
  }

  private top(): PyValue {
    const v = this.stack[this.stack.length - 1];
    if (v === undefined || v === MARK) throw new PickleFormatError('corrupt pickle: stack underflow');
    return v;
  }

  private popMark(): PyValue[] {
    const i = this.stack.lastIndexOf(MARK);
    if (i < 0) throw new PickleFormatError('corrupt pickle: no MARK on the stack');
    const items = this.stack.slice(i + 1) as PyValue[];
    this.stack.length = i;
    return items;
  }

  private memoGet(i: number): PyValue {
    if (!this.memo.has(i)) throw new PickleFormatError(`corrupt pickle: memo entry ${i} is missing`);
    return this.memo.get(i)!;
  }

  private global(module: string, name: string): ResolvedGlobal {
    const found = resolveGlobal(module, name);
    if (!found) throw new UnsafePickleError(`${module}.${name}`);
    const g: ResolvedGlobal = { kind: 'global', module: found.module, name, role: found.role };
    roles.set(g, found.role);
    return g;
  }

  load(): PyValue {
    const r = this.r;
    const ops = this.ops;
    const maxOps = this.limits.maxOps;
    for (; ops.n < maxOps; ops.n++) {
      const op = r.u8();
      switch (op) {
        case 0x80: {
          const proto = r.u8('protocol');
          if (proto > 5) throw new PickleFormatError(`unsupported pickle protocol ${proto}`);
          break;
        }
        case 0x95: {
          // FRAME: frames are contiguous in the stream; the length is only checked against what is left
          const len = r.u64();
          if (len > r.remaining) r.read(len, 'frame');
          break;
        }
        case 0x2e: // STOP
          return this.pop();
        case 0x28: // MARK
          this.stack.push(MARK);
          break;
        case 0x30: // POP
          if (this.stack.length === 0) throw new PickleFormatError('corrupt pickle: stack underflow');
          this.stack.pop();
          break;
        case 0x31: // POP_MARK
          this.popMark();
          break;
        case 0x32: // DUP
          this.stack.push(this.top());
          break;
        // ---- constants and numbers
        case 0x4e: // NONE
          this.stack.push(null);
          break;
        case 0x88:
          this.stack.push(true);
          break;
        case 0x89:
          this.stack.push(false);
          break;
        case 0x4b: // BININT1
          this.stack.push(r.u8('int'));
          break;
        case 0x4d: // BININT2
          this.stack.push(r.u16());
          break;
        case 0x4a: // BININT
          this.stack.push(r.i32());
          break;
        case 0x8a: // LONG1
        case 0x8b: {
          // LONG4
          const n = op === 0x8a ? r.u8('length') : r.i32();
          if (n < 0) throw new PickleFormatError('corrupt pickle: negative LONG4 length');
          checkLongLength(n, this.limits);
          this.stack.push(longFromBytes(r.read(n, 'long')));
          break;
        }
        case 0x49: // INT (text)
          this.stack.push(parseIntText(r.line(), this.limits));
          break;
        case 0x4c: // LONG (text)
          this.stack.push(parseIntText(r.line(), this.limits) as number | bigint);
          break;
        case 0x46: // FLOAT (text)
          this.stack.push(Number.parseFloat(r.line()));
          break;
        case 0x47: // BINFLOAT
          this.stack.push(r.f64be());
          break;
        // ---- strings and bytes
        case 0x58: // BINUNICODE
          this.stack.push(decodeUtf8(this.bytesOf(r.u32(), 'string')));
          break;
        case 0x8c: // SHORT_BINUNICODE
          this.stack.push(decodeUtf8(this.bytesOf(r.u8('length'), 'string')));
          break;
        case 0x8d: // BINUNICODE8
          this.stack.push(decodeUtf8(this.bytesOf(r.u64(), 'string')));
          break;
        case 0x56: {
          // UNICODE (raw-unicode-escape text)
          const line = r.line();
          this.budget.charge(line.length, `a ${line.length}-byte string`);
          this.stack.push(rawUnicodeEscape(line));
          break;
        }
        case 0x42: // BINBYTES
          this.stack.push(this.bytesOf(r.u32(), 'bytes').slice());
          break;
        case 0x43: // SHORT_BINBYTES
          this.stack.push(this.bytesOf(r.u8('length'), 'bytes').slice());
          break;
        case 0x8e: // BINBYTES8
        case 0x96: // BYTEARRAY8
          this.stack.push(this.bytesOf(r.u64(), 'bytes').slice());
          break;
        case 0x53: {
          // STRING (protocol 0, python 2 str): latin-1
          const line = r.line();
          this.budget.charge(line.length, `a ${line.length}-byte string`);
          this.stack.push(Buffer.from(unquote(line)).toString('latin1'));
          break;
        }
        case 0x54: {
          // BINSTRING
          const n = r.i32();
          if (n < 0) throw new PickleFormatError('corrupt pickle: negative BINSTRING length');
          this.stack.push(Buffer.from(this.bytesOf(n, 'string')).toString('latin1'));
          break;
        }
        case 0x55: // SHORT_BINSTRING
          this.stack.push(Buffer.from(this.bytesOf(r.u8('length'), 'string')).toString('latin1'));
          break;
        case 0x97: // NEXT_BUFFER
          throw new PickleFormatError(
            'pickle uses out-of-band buffers (protocol 5 NEXT_BUFFER), which a file cannot carry',
          );
        case 0x98: // READONLY_BUFFER
          break;
        // ---- containers
        case 0x29: // EMPTY_TUPLE
          this.stack.push([]);
          break;
        case 0x85:
          this.stack.push([this.pop()]);
          break;
        case 0x86: {
          const b = this.pop();
          const a = this.pop();
          this.stack.push([a, b]);
          break;
        }
        case 0x87: {
          const c = this.pop();
          const b = this.pop();
          const a = this.pop();
          this.stack.push([a, b, c]);
          break;
        }
        case 0x74: // TUPLE
        case 0x6c: // LIST
          this.stack.push(this.popMarkCharged('list'));
          break;
        case 0x5d: // EMPTY_LIST
          this.stack.push([]);
          break;
        case 0x61: {
          // APPEND
          const v = this.pop();
          this.budget.charge(SLOT_BYTES, 'a list item');
          this.appendTo(this.top(), [v]);
          break;
        }
        case 0x65: {
          // APPENDS
          const items = this.popMarkCharged('list');
          this.appendTo(this.top(), items);
          break;
        }
        case 0x7d: // EMPTY_DICT
          this.stack.push(new Map());
          break;
        case 0x64: {
          // DICT
          const items = this.popMarkCharged('dict');
          const d: PyDict = new Map();
          for (let i = 0; i + 1 < items.length; i += 2) d.set(items[i]!, items[i + 1]!);
          this.stack.push(d);
          break;
        }
        case 0x73: {
          // SETITEM
          const v = this.pop();
          this.budget.charge(2 * SLOT_BYTES, 'a dict item');
          const k = this.pop();
          this.setItems(this.top(), [k, v]);
          break;
        }
        case 0x75: {
          // SETITEMS
          const items = this.popMarkCharged('dict');
          this.setItems(this.top(), items);
          break;
        }
        case 0x8f: // EMPTY_SET
          this.stack.push({ kind: 'set', items: [] });
          break;
        case 0x90: {
          // ADDITEMS
          const items = this.popMarkCharged('set');
          const s = this.top();
          if (typeof s !== 'object' || s === null || (s as { kind?: string }).kind !== 'set') {
            throw new PickleFormatError('corrupt pickle: ADDITEMS target is not a set');
          }
          pushAll((s as { items: PyValue[] }).items, items);
          break;
        }
        case 0x91: // FROZENSET
          this.stack.push({ kind: 'set', items: this.popMarkCharged('set') });
          break;
        // ---- memo
        case 0x67: // GET
          this.stack.push(this.memoGet(Number(r.line())));
          break;
        case 0x68: // BINGET
          this.stack.push(this.memoGet(r.u8('memo index')));
          break;
        case 0x6a: // LONG_BINGET
          this.stack.push(this.memoGet(r.u32()));
          break;
        case 0x70: // PUT
          this.memoSet(Number(r.line()), this.top());
          break;
        case 0x71: // BINPUT
          this.memoSet(r.u8('memo index'), this.top());
          break;
        case 0x72: // LONG_BINPUT
          this.memoSet(r.u32(), this.top());
          break;
        case 0x94: // MEMOIZE
          this.memoSet(this.memo.size, this.top());
          break;
        // ---- globals and objects
        case 0x63: {
          // GLOBAL
          const module = r.line();
          const name = r.line();
          this.stack.push(this.global(module, name));
          break;
        }
        case 0x93: {
          // STACK_GLOBAL
          const name = this.pop();
          const module = this.pop();
          if (typeof module !== 'string' || typeof name !== 'string') {
            throw new PickleFormatError('corrupt pickle: STACK_GLOBAL needs two strings');
          }
          this.stack.push(this.global(module, name));
          break;
        }
        case 0x82:
        case 0x83:
        case 0x84:
          throw new PickleFormatError('pickle uses the copyreg extension registry (EXT1/2/4), which is not supported');
        case 0x50: // PERSID
        case 0x51: // BINPERSID
          throw new PickleFormatError('pickle uses persistent ids (PERSID), which are not supported');
        case 0x52: {
          // REDUCE
          const args = this.pop();
          const fn = this.pop();
          this.stack.push(this.call(fn, args));
          break;
        }
        case 0x81: {
          // NEWOBJ
          const args = this.pop();
          const cls = this.pop();
          this.stack.push(this.newObj(cls, args));
          break;
        }
        case 0x92: {
          // NEWOBJ_EX
          this.pop(); // kwargs
          const args = this.pop();
          const cls = this.pop();
          this.stack.push(this.newObj(cls, args));
          break;
        }
        case 0x69: {
          // INST
          const cls = this.global(r.line(), r.line());
          this.stack.push(this.newObj(cls, this.popMarkCharged('tuple')));
          break;
        }
        case 0x6f: {
          // OBJ
          const items = this.popMarkCharged('tuple');
          const cls = items.shift();
          this.stack.push(this.newObj(cls ?? null, items));
          break;
        }
        case 0x62: {
          // BUILD
          const state = this.pop();
          const obj = this.top();
          const built = this.build(obj, state);
          if (built !== obj) this.stack[this.stack.length - 1] = built;
          break;
        }
        default:
          throw new PickleFormatError(
            `corrupt pickle: unknown opcode 0x${op.toString(16).padStart(2, '0')} at offset ${r.pos - 1}`,
          );
      }
    }
    throw new PickleFormatError('pickle exceeds the opcode limit');
  }

  private appendTo(target: PyValue, items: PyValue[]): void {
    if (Array.isArray(target)) pushAll(target, items);
    else if (isPyObject(target)) {
      target.listItems ??= [];
      pushAll(target.listItems, items);
    } else throw new PickleFormatError('corrupt pickle: APPEND target is not a list');
  }

  private setItems(target: PyValue, items: PyValue[]): void {
    if (isPyDict(target)) {
      for (let i = 0; i + 1 < items.length; i += 2) target.set(items[i]!, items[i + 1]!);
      return;
    }
    // dict subclasses (e.g. sklearn Bunch) pickled as objects: their items land in `dictItems`
    if (isPyObject(target)) {
      target.dictItems ??= new Map();
      for (let i = 0; i + 1 < items.length; i += 2) target.dictItems.set(items[i]!, items[i + 1]!);
      return;
    }
    throw new PickleFormatError('corrupt pickle: SETITEM target is not a dict');
  }

  /**
   * A numpy array's declared shape, checked (non-negative integer dims) and charged to the budget
   * (elements × max(itemsize, 8)) before the array is allocated.
   */
  private arrayShape(shapeV: PyValue[], dt: DType): number[] {
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
    this.budget.charge(count * Math.max(dt.itemsize, SLOT_BYTES), `a numpy array of shape [${shape.join(',')}]`);
    return shape;
  }

  private asGlobal(fn: PyValue, what: string): ResolvedGlobal {
    if (typeof fn !== 'object' || fn === null || (fn as { kind?: string }).kind !== 'global' || !roles.has(fn)) {
      throw new PickleFormatError(`corrupt pickle: ${what} target is not a global`);
    }
    return fn as ResolvedGlobal;
  }

  private newObj(cls: PyValue, args: PyValue): PyValue {
    const g = this.asGlobal(cls, 'NEWOBJ');
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

  private call(fn: PyValue, args: PyValue): PyValue {
    const g = this.asGlobal(fn, 'REDUCE');
    const a = Array.isArray(args) ? args : [];
    switch (g.role) {
      case 'copyreg-reconstructor': {
        const cls = this.asGlobal(a[0] ?? null, 'copyreg._reconstructor');
        return this.newObj(cls, []);
      }
      case 'ndarray-reconstruct': {
        const arr: NdArray = { kind: 'ndarray', dtype: parseDTypeString('f8'), shape: [0], data: new Float64Array(0) };
        return arr;
      }
      case 'ndarray-frombuffer': {
        const [buf, dt, shape, order] = a;
        if (!(buf instanceof Uint8Array) || !isDType(dt) || !Array.isArray(shape)) {
          throw new PickleFormatError('numpy _frombuffer arguments are malformed');
        }
        return arrayFromBytes(dt, this.arrayShape(shape, dt), buf, order === 'F');
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
        return this.newObj(g, a);
    }
  }

  private build(obj: PyValue, state: PyValue): PyValue {
    if (isNdArray(obj)) {
      if (Array.isArray(state)) {
        const [shapeV, dtV] = state.length === 5 ? state.slice(1) : state;
        if (Array.isArray(shapeV) && isDType(dtV)) this.arrayShape(shapeV, dtV);
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
      if (
        Array.isArray(state) &&
        state.length === 2 &&
        (isPyDict(state[0]) || state[0] === null) &&
        isPyDict(state[1])
      ) {
        const merged: PyDict = new Map(isPyDict(state[0]) ? state[0] : []);
        for (const [k, v] of state[1]) merged.set(k, v);
        obj.state = merged;
      } else obj.state = state;
      if (roles.get(obj) === JOBLIB_WRAPPER) return this.readJoblibArray(obj);
      return obj;
    }
    if (isPyDict(obj) && isPyDict(state)) {
      for (const [k, v] of state) obj.set(k, v);
      return obj;
    }
    throw new PickleFormatError('corrupt pickle: BUILD target cannot take state');
  }

  /** joblib: the array's bytes (or, for object arrays, a nested pickle) follow the wrapper in the stream. */
  private readJoblibArray(wrapper: PyObject): NdArray {
    const st = wrapper.state;
    if (!isPyDict(st)) throw new PickleFormatError('joblib NumpyArrayWrapper has no state');
    const shapeV = st.get('shape');
    const dt = st.get('dtype');
    if (!Array.isArray(shapeV) || !isDType(dt))
      throw new PickleFormatError('joblib NumpyArrayWrapper state is malformed');
    const shape = this.arrayShape(shapeV, dt);
    const fortran = st.get('order') === 'F';
    if (dt.char === 'O') {
      const nested = new RestrictedUnpickler(this.r, this.budget, this.ops).load();
      if (!isNdArray(nested)) throw new PickleFormatError('joblib object array did not unpickle to an array');
      return nested;
    }
    const align = st.get('numpy_array_alignment_bytes');
    if (typeof align === 'number') {
      const pad = this.r.u8('array padding');
      if (pad > 0) this.r.read(pad, 'array padding');
    }
    const nbytes = sizeOf(shape) * dt.itemsize;
    const bytes = this.r.read(nbytes, `array data (shape [${shape.join(',')}])`);
    if (!fortran) return arrayFromBytes(dt, shape, bytes, false);
    // joblib writes F-ordered arrays with reversed shape, then transposes
    const rev = arrayFromBytes(dt, [...shape].reverse(), bytes, false);
    return transpose(rev, shape);
  }
}

/** Append `items` to `target` one by one (a spread of a huge array overflows the call stack). */
function pushAll(target: PyValue[], items: PyValue[]): void {
  for (const item of items) target.push(item);
}

function transpose(a: NdArray, shape: number[]): NdArray {
  // a has reversed shape in C order == the F-order layout of `shape`; reorder to C order of `shape`
  const n = sizeOf(shape);
  const reorder = <T>(src: ArrayLike<T>, out: { [i: number]: T }): void => {
    const idx = new Array<number>(shape.length).fill(0);
    for (let c = 0; c < n; c++) {
      let f = 0;
      let mul = 1;
      for (let d = 0; d < shape.length; d++) {
        f += idx[d]! * mul;
        mul *= shape[d]!;
      }
      out[c] = src[f]!;
      for (let d = shape.length - 1; d >= 0; d--) {
        idx[d]! += 1;
        if (idx[d]! < shape[d]!) break;
        idx[d] = 0;
      }
    }
  };
  const fix = (arr: NdArray): NdArray => {
    const src = arr.data as ArrayLike<unknown>;
    const out = (
      Array.isArray(arr.data) ? new Array(n) : new (arr.data.constructor as new (k: number) => object)(n)
    ) as {
      [i: number]: unknown;
    };
    reorder(src, out);
    return { kind: 'ndarray', dtype: arr.dtype, shape: [...shape], data: out as NdArray['data'] };
  };
  if (a.fields) {
    const fields = new Map<string, NdArray>();
    for (const [k, v] of a.fields) fields.set(k, fix(v));
    return { kind: 'ndarray', dtype: a.dtype, shape: [...shape], data: [], fields };
  }
  return fix(a);
}

export type { DType };
