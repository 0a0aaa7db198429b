import { createServer, type Server } from 'node:http';
import type { DataPlane } from '../dataplane.js';

/**
 * A tiny HTTP server answering only the health routes (`/`, `/v2/health/live`, `/v2/health/ready`) on a port of its
 * own (`--health_port`): its accept queue is not the inference port's, so Kubernetes probes are answered even when
 * the inference port is saturated. Answers as the main port does (ready: 503 while loading or shutting down).
 */
export function createHealthServer(dataplane: DataPlane): Server {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    let status = 200;
    let body: unknown;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      status = 405;
      body = { error: `Method ${req.method} not allowed on the health port; use GET.` };
    } else if (path === '/') {
      body = { status: 'alive' };
    } else if (path === '/v2/health/live') {
      body = { live: dataplane.live() };
    } else if (path === '/v2/health/ready') {
      const ready = dataplane.ready();
      status = ready ? 200 : 503;
      body = { ready };
    } else {
      status = 404;
      body = {
        error: `Route ${req.method} ${path} not found on the health port (/, /v2/health/live, /v2/health/ready).`,
      };
    }
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(req.method === 'HEAD' ? undefined : text);
  });
  server.keepAliveTimeout = 5000;
  return server;
}
