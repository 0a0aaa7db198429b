import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Model, type ParsedFlags } from '@servekit/core';
import type { ModelFormatHandler } from './format.js';

/** Constructor shape a `--model_module` class must have. */
type ModelClass = new (name: string, options: { modelDir: string; flags: ParsedFlags }) => Model;

/** `--model_module path.js`: the user's own Model subclass (default export or `model`), e.g. a transformer. */
export const customFormat: ModelFormatHandler = {
  name: 'custom',
  candidates: () => [],
  create: async (name, dir, flags) => {
    const path = flags.model_module as string | undefined;
    if (!path) throw new Error('--model_format custom needs --model_module path/to/model.js');
    const mod = (await import(pathToFileURL(resolve(path)).href)) as { default?: unknown; model?: unknown };
    const Cls = (mod.default ?? mod.model) as ModelClass | undefined;
    if (typeof Cls !== 'function' || !(Cls.prototype instanceof Model)) {
      throw new Error(`${path} must export a Model subclass as its default export or as \`model\``);
    }
    return [{ model: new Cls(name, { modelDir: dir, flags }) }];
  },
};
