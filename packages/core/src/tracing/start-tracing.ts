import type { Tracer, TracingLog, TracingOptions } from './span.js';

/**
 * Start OpenTelemetry tracing: loads the OpenTelemetry SDK (only now, with `import()`: a server without tracing never
 * loads it) and returns the tracer the server's transports start their spans with. The SDK's warnings and errors (a
 * failed export) go to `log` (process-wide: the SDK has one diagnostic logger, the last server started sets it).
 */
export async function startTracing(options: TracingOptions, serverVersion: string, log?: TracingLog): Promise<Tracer> {
  const { OtelTracer } = await import('./otel-tracer.js');
  return new OtelTracer(options, serverVersion, log);
}

/**
 * Whether a server started from flags traces: `--enable_tracing true|false` when given, else whether an OTLP endpoint
 * is in the environment (`OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`); never when
 * `OTEL_SDK_DISABLED=true`.
 */
export function tracingEnabled(flag: boolean | undefined, env: Readonly<Record<string, string | undefined>>): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  if (flag !== undefined) return flag;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim());
}
