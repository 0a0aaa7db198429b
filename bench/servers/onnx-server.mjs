// A ModelServer serving one ONNX file: node bench/servers/onnx-server.mjs <model.onnx> <name> [servekit flags…]
import { ModelServer, parseFlags, serverOptionsFromFlags } from '@servekit/core';
import { OnnxModel } from '@servekit/onnx';

const [modelPath, name, ...rest] = process.argv.slice(2);
const { flags } = parseFlags(['--http_port', '0', '--grpc_port', '0', '--host', '127.0.0.1', ...rest]);
const server = new ModelServer({ ...serverOptionsFromFlags(flags), defaultMetrics: false });
server.installSignalHandlers();
// BENCH_EXECUTION=auto (default), worker or main: where onnxruntime runs (OnnxModelOptions.execution).
const execution = process.env.BENCH_EXECUTION ?? 'auto';
// BENCH_INTRA_OP=n: onnxruntime's intraOpNumThreads (unset: onnxruntime's default, one per core); BENCH_SPIN=1: pool
// threads spin between runs (onnxruntime's own default; OnnxModel's is off).
const intra = process.env.BENCH_INTRA_OP
  ? { sessionOptions: { intraOpNumThreads: Number(process.env.BENCH_INTRA_OP) } }
  : {};
if (process.env.BENCH_SPIN === '1') intra.sessionOptions = { ...intra.sessionOptions, extra: {} };
await server.start([new OnnxModel(name, { modelPath, execution, ...intra })]);
