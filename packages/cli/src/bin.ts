#!/usr/bin/env node
import { parseFlags, usage } from '@servekit/core';
import { SERVE_FLAGS } from './flags.js';
import { serve } from './serve.js';

const HELP = `servekit — serve ML models over KServe V1 and the Open Inference Protocol (V2), REST and gRPC

Commands:
  servekit serve --model_dir DIR [flags]      detect the model format in DIR and serve it
  servekit convert FILE|DIR -o model.onnx     write the ONNX graph built from a sklearn/XGBoost/LightGBM model
      [--signature_name NAME]                 or lowered from a TensorFlow SavedModel signature

${usage('servekit serve', SERVE_FLAGS)}`;

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || rest.includes('--help')) {
    process.stdout.write(HELP);
    return;
  }
  if (command === 'serve') {
    const { flags, positionals } = parseFlags(rest, SERVE_FLAGS);
    if (positionals.length > 0) {
      throw new Error(
        `unexpected argument "${positionals[0]}" (flags take the form --name value; see servekit --help)`,
      );
    }
    await serve(flags);
    return;
  }
  if (command === 'convert') {
    const out = rest.indexOf('-o');
    const output = out >= 0 ? rest[out + 1] : undefined;
    const sig = rest.indexOf('--signature_name');
    const signatureName = sig >= 0 ? rest[sig + 1] : undefined;
    const taken = new Set([out, out + 1, ...(sig >= 0 ? [sig, sig + 1] : [])]);
    const input = rest.find((_arg, i) => !taken.has(i));
    if (!input || !output || (sig >= 0 && !signatureName)) {
      throw new Error('usage: servekit convert FILE|DIR -o model.onnx [--signature_name NAME]');
    }
    // Loaded here only: the converters (scikit-learn, trees, TensorFlow) are not what `serve` needs to start.
    const { convert } = await import('./convert.js');
    const { file, bytes } = await convert(input, output, signatureName === undefined ? {} : { signatureName });
    process.stdout.write(`wrote ${output} (${bytes} bytes) from ${file}\n`);
    return;
  }
  throw new Error(`unknown command "${command}" (commands: serve, convert; see servekit --help)`);
}

main(process.argv.slice(2)).catch((err: Error) => {
  process.stderr.write(`servekit: ${err.message}\n`);
  process.exit(2);
});
