import { OnnxModel } from '@servekit/onnx/model';
import { sessionOptionsFromFlags } from '../session-flags.js';
import type { ModelFormatHandler } from './format.js';

/** `*.onnx`: any ONNX model, run by onnxruntime-node. */
export const onnxFormat: ModelFormatHandler = {
  name: 'onnx',
  candidates: (_dir, files) => files.filter((f) => f.endsWith('.onnx')),
  create: (name, dir, flags) => [
    {
      model: new OnnxModel(name, {
        modelDir: dir,
        predictProba: flags.predict_proba === true,
        sessionOptions: sessionOptionsFromFlags(flags),
        execution: flags.session_execution,
      }),
    },
  ],
};
