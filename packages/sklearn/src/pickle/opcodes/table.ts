/** The opcode table of the restricted unpickler: one handler per opcode byte, none for the opcodes it does not know. */
import { CONTAINER_OPS } from './containers.js';
import { FRAMING_OPS } from './framing.js';
import { MEMO_OPS } from './memo.js';
import { NUMBER_OPS } from './numbers.js';
import { OBJECT_OPS } from './objects.js';
import type { OpHandler } from './state.js';
import { STRING_OPS } from './strings.js';

function opcodeTable(): readonly (OpHandler | undefined)[] {
  const table = new Array<OpHandler | undefined>(256).fill(undefined);
  for (const family of [FRAMING_OPS, NUMBER_OPS, STRING_OPS, CONTAINER_OPS, MEMO_OPS, OBJECT_OPS]) {
    for (const [byte, handler] of family) {
      if (table[byte]) throw new Error(`opcode 0x${byte.toString(16)} has two handlers`);
      table[byte] = handler;
    }
  }
  return table;
}

/** Handlers by opcode byte (0-255), indexed directly: an array is the fastest dispatch. */
export const OPCODES = opcodeTable();
