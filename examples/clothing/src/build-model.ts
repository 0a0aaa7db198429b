// Writes the example's clothing classifier as a TF SavedModel in TF Serving's version layout (model/1/).
//
// The real ML Zoomcamp clothing model is Keras' Xception fine-tuned on the clothing data set (~80 MB). It is not
// available here, so this is a small Keras-like CNN with the same interface — input `input_8` float32
// [N, 299, 299, 3] scaled like Xception's `preprocess_input`, output `dense_7` float32 [N, 10] logits in CLASSES
// order — and **seeded random weights**: its answers are deterministic but carry no meaning.
//
//   node examples/clothing/dist/build-model.js [OUT_DIR]     (default: examples/clothing/model/1)
import { fileURLToPath } from 'node:url';
import { GraphDefBuilder } from '@servekit/tf';
import { CLASSES } from './classes.js';

/** Input size of the model (Xception's). */
export const IMAGE_SIZE = 299;
/** Signature input key (what the Zoomcamp's Keras export names it). */
export const INPUT_NAME = 'input_8';
/** Signature output key: the logits. */
export const OUTPUT_NAME = 'dense_7';
/** Seed of the random weights; the same seed writes the same bytes. */
export const SEED = 2024;

/** Options of `buildClothingModel`; the defaults write the committed model. */
export interface BuildOptions {
  /** Seed of the random weights. Default SEED. */
  seed?: number;
  /** Square input size. Default 299. */
  size?: number;
  /** Signature input key. Default `input_8`. */
  inputName?: string;
}

/** Build the graph and write `saved_model.pb` into `dir`. */
export function buildClothingModel(dir: string, options: BuildOptions = {}): void {
  const g = new GraphDefBuilder(options.seed ?? SEED);
  const size = options.size ?? IMAGE_SIZE;
  const inputName = options.inputName ?? INPUT_NAME;
  const input = g.placeholder(inputName, [-1, size, size, 3]);
  // Entry flow, Xception style: two plain convs, then a separable block with a strided 1×1 residual.
  let x = g.relu(
    g.batchNorm(g.conv2d(input, { filters: 8, stride: 2, padding: 'VALID' }, 'block1_conv1'), 'block1_conv1_bn'),
    'block1_conv1_act',
  );
  x = g.relu(g.batchNorm(g.conv2d(x, { filters: 16 }, 'block1_conv2'), 'block1_conv2_bn'), 'block1_conv2_act');
  const residual = g.batchNorm(g.conv2d(x, { filters: 32, kernel: 1, stride: 2 }, 'conv2d_1'), 'batch_normalization_1');
  let y = g.batchNorm(g.separableConv2d(x, 32, 'block2_sepconv1'), 'block2_sepconv1_bn');
  y = g.relu(y, 'block2_sepconv2_act');
  y = g.batchNorm(g.separableConv2d(y, 32, 'block2_sepconv2'), 'block2_sepconv2_bn');
  y = g.pool('MaxPool', y, { size: 3, stride: 2, padding: 'SAME' }, 'block2_pool');
  x = g.add(y, residual, 'add_1');
  // Exit flow: one more separable conv, global average pooling, the 10-way dense head (logits, as in the course).
  x = g.relu(g.batchNorm(g.separableConv2d(x, 32, 'block14_sepconv1'), 'block14_sepconv1_bn'), 'block14_sepconv1_act');
  const pooled = g.globalAvgPool(x, 'global_average_pooling2d');
  const logits = g.dense(pooled, CLASSES.length, OUTPUT_NAME);
  g.write(dir, { [inputName]: input }, { [OUTPUT_NAME]: logits });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = process.argv[2] ?? fileURLToPath(new URL('../model/1', import.meta.url));
  buildClothingModel(out);
  console.log(`wrote ${out}/saved_model.pb`);
}
