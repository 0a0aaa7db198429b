#!/usr/bin/env node
import { ModelServer, parseFlags, serverOptionsFromFlags, usage } from '@servekit/core';
import { IrisCentroidModel } from './iris-centroid-model.js';

// The whole "custom model image": parse KServe's flags, build the model, serve it.
if (process.argv.includes('--help')) {
  process.stdout.write(usage('node dist/main.js'));
  process.exit(0);
}
const { flags } = parseFlags(process.argv.slice(2));
const server = new ModelServer(serverOptionsFromFlags(flags));
server.installSignalHandlers();
const name = flags.model_name ?? 'iris';
await server.start([new IrisCentroidModel(name, flags.model_dir ?? 'model')]);
