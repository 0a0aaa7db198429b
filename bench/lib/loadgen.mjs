// Closed-loop load generator, run as its own process so it does not share the server's event loop.
// Usage: node bench/lib/loadgen.mjs '<json spec>'  →  prints one JSON result line.
// spec: { kind: 'http'|'grpc', target, path?, method?, headers?, body (base64) | bodyFile | grpcRequest, concurrency,
//         durationMs, warmupMs, grpcPreserialized? (send grpcRequest serialized once, leave responses unparsed),
//         caFile? (https:// targets and gRPC over TLS trust this PEM CA), certFile?, keyFile? (client certificate),
//         grpcMetadata? ({ key: value } sent with every call) }
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';

const spec = JSON.parse(process.argv[2]);

/** The PEM files of the spec (CA, client certificate and key), read. */
function tlsFiles() {
  const read = (file) => (file ? readFileSync(file) : undefined);
  return { ca: read(spec.caFile), cert: read(spec.certFile), key: read(spec.keyFile) };
}

function httpSender() {
  const url = new URL(spec.path ?? '/', spec.target);
  const tls = url.protocol === 'https:';
  const agent = tls
    ? new https.Agent({ keepAlive: true, maxSockets: spec.concurrency, ...tlsFiles() })
    : new http.Agent({ keepAlive: true, maxSockets: spec.concurrency });
  const mod = tls ? https : http;
  // Large bodies (a 224×224×3 image) come as a file: argv has a size limit.
  const body = spec.bodyFile ? readFileSync(spec.bodyFile) : Buffer.from(spec.body ?? '', 'base64');
  const headers = { 'content-type': 'application/json', 'content-length': body.byteLength, ...(spec.headers ?? {}) };
  return () =>
    new Promise((resolve) => {
      const req = mod.request(
        { host: url.hostname, port: url.port, path: url.pathname, method: spec.method ?? 'POST', agent, headers },
        (res) => {
          res.on('data', () => {});
          res.on('end', () => resolve(res.statusCode === 200));
        },
      );
      req.on('error', () => resolve(false));
      req.end(body);
    });
}

async function grpcSender() {
  const grpc = await import('@grpc/grpc-js');
  const { inferenceService } = await import('../../packages/core/dist/protocols/grpc-proto.js');
  const Client = inferenceService();
  const { ca, cert, key } = tlsFiles();
  // With TLS to 127.0.0.1, no server name (Node 26 refuses an address as one): as servekit's GrpcClient does.
  const { withoutIpServerName } = await import('../../packages/client/dist/tls-server-name.js');
  const credentials = ca
    ? withoutIpServerName(grpc.credentials.createSsl(ca, key ?? null, cert ?? null))
    : grpc.credentials.createInsecure();
  const client = new Client(spec.target, credentials, {
    'grpc.max_receive_message_length': 64 << 20,
    'grpc.max_send_message_length': 64 << 20,
  });
  const request = spec.grpcRequest;
  const metadata = new grpc.Metadata();
  for (const [k, v] of Object.entries(spec.grpcMetadata ?? {})) metadata.set(k, v);
  if (request.raw_input_contents)
    request.raw_input_contents = request.raw_input_contents.map((b) => Buffer.from(b, 'base64'));
  if (spec.grpcPreserialized) {
    // Like the HTTP sender: the request bytes are built once and the response bytes are not parsed, so the
    // client's protobufjs encode/decode does not weigh on the measurement.
    const method = Client.service.ModelInfer;
    const bytes = method.requestSerialize(request);
    const same = (b) => b;
    return () =>
      new Promise((resolve) =>
        client.makeUnaryRequest(method.path, same, same, bytes, metadata, {}, (err) => resolve(!err)),
      );
  }
  return () => new Promise((resolve) => client.ModelInfer(request, metadata, (err) => resolve(!err)));
}

const send = spec.kind === 'grpc' ? await grpcSender() : httpSender();
const latencies = [];
let errors = 0;
let sent = 0; // every completed request, warm-up included (to divide a server's CPU time by)
let measuring = false;
let done = false;

async function worker() {
  while (!done) {
    const t0 = performance.now();
    const ok = await send();
    const dt = performance.now() - t0;
    sent++;
    if (!measuring) continue;
    if (ok) latencies.push(dt);
    else errors++;
  }
}

const workers = Array.from({ length: spec.concurrency }, worker);
await new Promise((r) => setTimeout(r, spec.warmupMs ?? 1000));
measuring = true;
const t0 = performance.now();
const cpu0 = process.cpuUsage();
await new Promise((r) => setTimeout(r, spec.durationMs));
measuring = false;
const elapsed = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
// CPU the load generator itself used while measuring (1 = one core): it shares the machine with the server.
const clientCpu = (cpu.user + cpu.system) / 1e6 / elapsed;
done = true;
await Promise.all(workers);
latencies.sort((a, b) => a - b);
const pct = (p) =>
  latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] : NaN;
const mean = latencies.reduce((a, b) => a + b, 0) / (latencies.length || 1);
process.stdout.write(
  `${JSON.stringify({ requests: latencies.length, errors, rps: latencies.length / elapsed, p50: pct(50), p90: pct(90), p99: pct(99), mean, clientCpu, sent })}\n`,
);
process.exit(0);
