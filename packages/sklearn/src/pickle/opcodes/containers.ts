/** Opcodes that build tuples, lists, dicts and sets; every slot is charged to the budget before it is added. */
import { PickleFormatError } from '../errors.js';
import { SLOT_BYTES } from '../limits.js';
import { isPyDict, isPyObject, type PyDict, type PySet, type PyValue } from '../py-types.js';
import { OP } from './codes.js';
import type { OpFamily, UnpicklerState } from './state.js';

/** Append `items` to `target` one by one (a spread of a huge array overflows the call stack). */
function pushAll(target: PyValue[], items: PyValue[]): void {
  for (const item of items) target.push(item);
}

/** Set alternating key, value `items` into `target`. */
function setPairs(target: PyDict, items: PyValue[]): void {
  for (let i = 0; i + 1 < items.length; i += 2) target.set(items[i]!, items[i + 1]!);
}

/** APPEND(S) into a list, or into a list subclass pickled as an object (its `listItems`). */
function appendTo(target: PyValue, items: PyValue[]): void {
  if (Array.isArray(target)) pushAll(target, items);
  else if (isPyObject(target)) {
    target.listItems ??= [];
    pushAll(target.listItems, items);
  } else throw new PickleFormatError('corrupt pickle: APPEND target is not a list');
}

/** SETITEM(S) into a dict, or into a dict subclass pickled as an object (e.g. sklearn Bunch: its `dictItems`). */
function setItems(target: PyValue, items: PyValue[]): void {
  if (isPyDict(target)) setPairs(target, items);
  else if (isPyObject(target)) {
    target.dictItems ??= new Map();
    setPairs(target.dictItems, items);
  } else throw new PickleFormatError('corrupt pickle: SETITEM target is not a dict');
}

/** EMPTY_TUPLE and EMPTY_LIST (both are JS arrays). */
function emptyList(u: UnpicklerState): void {
  u.stack.push([]);
}

function tuple1(u: UnpicklerState): void {
  u.stack.push([u.pop()]);
}

function tuple2(u: UnpicklerState): void {
  const b = u.pop();
  const a = u.pop();
  u.stack.push([a, b]);
}

function tuple3(u: UnpicklerState): void {
  const c = u.pop();
  const b = u.pop();
  const a = u.pop();
  u.stack.push([a, b, c]);
}

/** TUPLE and LIST: the items above MARK. */
function listFromMark(u: UnpicklerState): void {
  u.stack.push(u.popMarkCharged('list'));
}

function append(u: UnpicklerState): void {
  const v = u.pop();
  u.budget.charge(SLOT_BYTES, 'a list item');
  appendTo(u.top(), [v]);
}

function appends(u: UnpicklerState): void {
  const items = u.popMarkCharged('list');
  appendTo(u.top(), items);
}

function emptyDict(u: UnpicklerState): void {
  u.stack.push(new Map());
}

function dict(u: UnpicklerState): void {
  const items = u.popMarkCharged('dict');
  const d: PyDict = new Map();
  setPairs(d, items);
  u.stack.push(d);
}

function setItem(u: UnpicklerState): void {
  const v = u.pop();
  u.budget.charge(2 * SLOT_BYTES, 'a dict item');
  const k = u.pop();
  setItems(u.top(), [k, v]);
}

function setItemsOp(u: UnpicklerState): void {
  const items = u.popMarkCharged('dict');
  setItems(u.top(), items);
}

function emptySet(u: UnpicklerState): void {
  u.stack.push({ kind: 'set', items: [] });
}

function addItems(u: UnpicklerState): void {
  const items = u.popMarkCharged('set');
  const s = u.top();
  if (typeof s !== 'object' || s === null || (s as { kind?: string }).kind !== 'set') {
    throw new PickleFormatError('corrupt pickle: ADDITEMS target is not a set');
  }
  pushAll((s as PySet).items, items);
}

function frozenSet(u: UnpicklerState): void {
  u.stack.push({ kind: 'set', items: u.popMarkCharged('set') });
}

/**
 * EMPTY_TUPLE, TUPLE1/2/3, TUPLE, EMPTY_LIST, LIST, APPEND, APPENDS, EMPTY_DICT, DICT, SETITEM, SETITEMS,
 * EMPTY_SET, ADDITEMS, FROZENSET.
 */
export const CONTAINER_OPS: OpFamily = [
  [OP.EMPTY_TUPLE, emptyList],
  [OP.TUPLE1, tuple1],
  [OP.TUPLE2, tuple2],
  [OP.TUPLE3, tuple3],
  [OP.TUPLE, listFromMark],
  [OP.LIST, listFromMark],
  [OP.EMPTY_LIST, emptyList],
  [OP.APPEND, append],
  [OP.APPENDS, appends],
  [OP.EMPTY_DICT, emptyDict],
  [OP.DICT, dict],
  [OP.SETITEM, setItem],
  [OP.SETITEMS, setItemsOp],
  [OP.EMPTY_SET, emptySet],
  [OP.FROZENSET, frozenSet],
  [OP.ADDITEMS, addItems],
];
