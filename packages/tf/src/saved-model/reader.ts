import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Checkpoint } from '../checkpoint/bundle.js';
import { decodeSavedModel, type MetaGraphDefMsg, type SavedModelMsg } from '../proto/tf-schema.js';

/** A SavedModel directory read from disk: the chosen MetaGraph and its checkpoint. */
export interface SavedModelFiles {
  /** The directory holding `saved_model.pb`. */
  dir: string;
  /** The MetaGraph whose tags matched. */
  meta: MetaGraphDefMsg;
  /** The variables checkpoint, when `variables/variables.index` exists. */
  checkpoint: Checkpoint | undefined;
}

/** Decode `<dir>/saved_model.pb`, throwing a message that names the file when it is missing or malformed. */
export function readSavedModelProto(dir: string): SavedModelMsg {
  const path = join(dir, 'saved_model.pb');
  if (!existsSync(path)) {
    if (existsSync(join(dir, 'saved_model.pbtxt')))
      throw new Error(`${dir} holds saved_model.pbtxt; only binary saved_model.pb is supported`);
    throw new Error(`${path} does not exist`);
  }
  const bytes = readFileSync(path);
  let sm: SavedModelMsg;
  try {
    sm = decodeSavedModel(bytes);
  } catch (err) {
    throw new Error(`${path} is not a valid SavedModel (truncated or corrupt protobuf: ${(err as Error).message})`);
  }
  if ((sm.meta_graphs?.length ?? 0) === 0)
    throw new Error(`${path} holds no MetaGraphs (empty, truncated or not a SavedModel)`);
  return sm;
}

/** Pick the MetaGraph tagged with every tag in `tags` (default `serve`). */
export function selectMetaGraph(sm: SavedModelMsg, tags: readonly string[], path: string): MetaGraphDefMsg {
  const metas = sm.meta_graphs ?? [];
  const found = metas.find((m) => tags.every((t) => m.meta_info_def?.tags?.includes(t)));
  if (found === undefined) {
    const have = metas.map((m) => `[${(m.meta_info_def?.tags ?? []).join(',')}]`).join(' ');
    throw new Error(`${path} has no MetaGraph tagged [${tags.join(',')}] (has ${have})`);
  }
  if (found.graph_def === undefined || (found.graph_def.node?.length ?? 0) === 0) {
    throw new Error(`${path}: the MetaGraph tagged [${tags.join(',')}] has an empty graph (truncated file?)`);
  }
  return found;
}

/** Read a SavedModel directory: `saved_model.pb` plus `variables/variables.{index,data-*}` when present. */
export function readSavedModel(dir: string, tags: readonly string[] = ['serve']): SavedModelFiles {
  const sm = readSavedModelProto(dir);
  const meta = selectMetaGraph(sm, tags, join(dir, 'saved_model.pb'));
  const prefix = join(dir, 'variables', 'variables');
  const checkpoint = existsSync(`${prefix}.index`) ? Checkpoint.open(prefix) : undefined;
  return { dir, meta, checkpoint };
}
