import { Counter, type Registry } from 'prom-client';
import type { AuthOutcome } from './authenticator.js';

/** Transports whose refusals are counted. */
export type AuthProtocol = 'http' | 'grpc';

/** Counts refused requests: `servekit_auth_failures_total{protocol,reason}` (reason `missing` or `invalid`). */
export type AuthFailureCounter = (protocol: AuthProtocol, reason: Exclude<AuthOutcome, 'ok'>) => void;

/** Register `servekit_auth_failures_total` in `registry` (only when auth is on) and return its counting function. */
export function authFailureCounter(registry: Registry): AuthFailureCounter {
  const counter = new Counter({
    name: 'servekit_auth_failures_total',
    help: 'requests refused for missing or invalid credentials, by protocol and reason',
    labelNames: ['protocol', 'reason'] as const,
    registers: [registry],
  });
  for (const protocol of ['http', 'grpc'] as const) {
    for (const reason of ['missing', 'invalid'] as const) counter.inc({ protocol, reason }, 0);
  }
  return (protocol, reason) => counter.inc({ protocol, reason });
}
