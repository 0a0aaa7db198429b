import cluster from 'node:cluster';
import type { Server as NodeHttpServer } from 'node:http';
import type * as grpc from '@grpc/grpc-js';
import Fastify, { type FastifyInstance } from 'fastify';
import { type Logger, pino } from 'pino';
import type { AdmissionOptions } from '../admission/admission-controller.js';
import { authEnabled } from '../auth/auth-flags.js';
import type { AuthOptions, ServerAuth } from '../auth/server-auth.js';
import type { BatchingOptions } from '../batching/batcher.js';
import { DataPlane, SERVER_VERSION } from '../dataplane.js';
import { DEFAULT_REQUEST_LIMITS, type RequestLimits } from '../limits.js';
import { createServerMetrics, type ServerMetrics } from '../metrics.js';
import type { Model } from '../model/model.js';
import { ModelRepository } from '../model/repository.js';
import type { PayloadLogOptions } from '../payload-log/options.js';
import type { PayloadLogger } from '../payload-log/payload-logger.js';
import { servekitRestPlugin } from '../protocols/rest-plugin.js';
import { bindGrpc, createGrpcServer } from '../protocols/v2-grpc.js';
import type { Tracer, TracingOptions } from '../tracing/span.js';
import { startTracing } from '../tracing/start-tracing.js';
import { clientErrorHandler } from './client-errors.js';
import { serveClusterMetrics, workerMetrics } from './cluster-metrics.js';
import { frameworkErrorHandler } from './framework-errors.js';
import { createHealthServer } from './health-server.js';
import { HttpDrain } from './http-drain.js';
import { openApiDocument } from './openapi.js';
import { loadTlsMaterial, type TlsFiles, type TlsOptions } from './tls.js';
import { grpcServerCredentials, httpsServerFactory, openTlsFiles } from './tls-servers.js';

/** Options of a ModelServer. */
export interface ModelServerOptions {
  /** HTTP port; 0 picks a free one. Default 8080. */
  httpPort?: number;
  /** gRPC port; 0 picks a free one. Default 8081. */
  grpcPort?: number;
  /** Address to listen on. Default 0.0.0.0. */
  host?: string;
  /** Serve gRPC. Default true. */
  enableGrpc?: boolean;
  /** Worker processes sharing the ports (node:cluster). Default 1 (no cluster). */
  workers?: number;
  /** Largest REST body in bytes. Default 64 MiB. */
  maxBodySize?: number;
  /** Budgets of request decoding (decoded tensor bytes, JSON depth). Default {@link DEFAULT_REQUEST_LIMITS}. */
  limits?: Partial<RequestLimits>;
  /** Largest gRPC message in bytes. Default 64 MiB. */
  grpcMaxMessageSize?: number;
  /** Log level when no logger is given. Default info. */
  logLevel?: string;
  /** A pino logger to use instead of a new one. */
  logger?: Logger;
  /** Log one line per inference request. */
  accessLog?: boolean;
  /** Serve OpenAPI + Swagger UI at /docs. */
  enableDocsUrl?: boolean;
  /** On stop, time allowed (from the stop, drain delay included) before open connections are cut. Default 30 s. */
  gracePeriodMs?: number;
  /**
   * On stop, how long the server stays not-ready but keeps accepting and answering before it stops listening, so
   * load balancers (Kubernetes endpoints) stop sending first. Capped at the grace period. Default 0.
   */
  drainDelayMs?: number;
  /** Longest time to receive one whole request (headers and body); then 408 and the connection closes. 0: none. Default 60 s. */
  requestTimeoutMs?: number;
  /** Also answer the health routes (`/`, `/v2/health/*`) on this port (0 picks a free one). Default: off. */
  healthPort?: number;
  /** Dynamic batching: one setting for every model, or a function choosing per model name. */
  batching?: BatchingOptions | ((modelName: string) => BatchingOptions | undefined);
  /** Admission control: concurrency caps per model and server-wide, with a bounded wait queue. Default: off. */
  admission?: AdmissionOptions;
  /** Collect Node's default process metrics. Default true. */
  defaultMetrics?: boolean;
  /** Payload logging: each inference request and response POSTed to a receiver as a CloudEvent. Default: off. */
  payloadLog?: PayloadLogOptions;
  /** Serve HTTPS and gRPC over TLS (mutual with a client CA), reloading the files on change. Default: plain. */
  tls?: TlsOptions;
  /** OpenTelemetry tracing (OTLP/HTTP export; `true`: every setting from `OTEL_*`). Default off: nothing loaded. */
  tracing?: boolean | TracingOptions;
  /** Bearer-token / JWT authentication of every route but the probes. Default: off. */
  auth?: AuthOptions;
}

/** Where a started server listens. */
export interface ServerAddresses {
  /** Bound HTTP port. */
  httpPort: number;
  /** Bound gRPC port, when gRPC is enabled. */
  grpcPort?: number;
  /** Bound health port, when one is asked for. */
  healthPort?: number;
}

/** Default of {@link ModelServerOptions.requestTimeoutMs}. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

/**
 * Serves models over KServe V1 + V2 REST (fastify) and V2 gRPC (grpc-js), all through one DataPlane.
 * `start(models)` registers them, listens (live, not ready) and loads them (a model that fails to load is reported
 * and the others are served).
 */
export class ModelServer {
  /** The models. */
  readonly repository = new ModelRepository();
  /** Prometheus metrics. */
  readonly metrics: ServerMetrics;
  /** The logger. */
  readonly logger: Logger;
  /** The transport-agnostic core. */
  readonly dataplane: DataPlane;
  private app?: FastifyInstance;
  private grpc?: grpc.Server;
  private httpDrain?: HttpDrain;
  private health?: NodeHttpServer;
  private auth?: ServerAuth;
  private addresses?: ServerAddresses;
  private stopping?: Promise<void>;
  private payloadLog?: PayloadLogger;
  private tlsFiles?: TlsFiles;
  private tracer?: Tracer;

  constructor(readonly options: ModelServerOptions = {}) {
    this.logger = options.logger ?? pino({ level: options.logLevel ?? 'info', base: { pid: process.pid } });
    this.metrics = createServerMetrics({ defaultMetrics: options.defaultMetrics });
    const batching = options.batching;
    this.dataplane = new DataPlane(this.repository, {
      metrics: this.metrics,
      logger: this.logger,
      accessLog: options.accessLog,
      limits: { ...DEFAULT_REQUEST_LIMITS, ...options.limits },
      batching: typeof batching === 'function' ? batching : () => batching,
      admission: options.admission,
    });
  }

  /** True in the primary of a multi-worker server, which only supervises workers. */
  get isClusterPrimary(): boolean {
    return (this.options.workers ?? 1) > 1 && cluster.isPrimary;
  }

  /**
   * Register models, listen (live at once, not ready), then load the models; resolves once they are loaded (or failed
   * to). In a multi-worker primary, forks the workers instead.
   */
  async start(models: Model[] = []): Promise<ServerAddresses> {
    const { httpPort = 8080, grpcPort = 8081, host = '0.0.0.0', enableGrpc = true } = this.options;
    if (this.isClusterPrimary) {
      if (this.options.tls) await loadTlsMaterial(this.options.tls); // a bad file stops here, not in every worker
      return this.superviseWorkers(httpPort, enableGrpc ? grpcPort : undefined);
    }
    const tls = this.options.tls ? await openTlsFiles(this.options.tls, this.logger) : undefined;
    this.tlsFiles = tls;
    for (const m of models) this.repository.register(m);
    // Listen first (live, not ready) so liveness probes are answered while slow models load.
    this.dataplane.startingUp();
    const requestTimeout = this.options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const app = Fastify({
      logger: false,
      bodyLimit: this.options.maxBodySize ?? 64 * 1024 * 1024,
      requestTimeout,
      // Node checks request timeouts on this interval: keep it a fraction of the timeout.
      http:
        requestTimeout > 0
          ? {
              headersTimeout: Math.min(60_000, requestTimeout),
              connectionsCheckingInterval: Math.max(100, Math.min(30_000, Math.floor(requestTimeout / 4))),
            }
          : {},
      serverFactory: tls && httpsServerFactory(tls),
      clientErrorHandler: clientErrorHandler(requestTimeout),
      frameworkErrors: frameworkErrorHandler(this.logger),
    });
    this.app = app;
    const { tracing } = this.options;
    if (tracing) {
      const log = { warn: (m: string) => this.logger.warn(m), error: (m: string) => this.logger.error(m) };
      this.tracer = await startTracing(tracing === true ? {} : tracing, SERVER_VERSION, log);
    }
    this.httpDrain = new HttpDrain(app.server);
    if (this.options.payloadLog) this.payloadLog = await startPayloadLog(this, this.options.payloadLog);
    if (authEnabled(this.options.auth)) {
      // Loaded only when on: a server without auth pays nothing for it, at start or per request.
      const { startServerAuth } = await import('../auth/server-auth.js');
      this.auth = await startServerAuth(this.options.auth, this.logger, this.metrics.registry);
      app.addHook('onRequest', this.auth.httpHook);
    }
    if (this.options.enableDocsUrl) await this.registerDocs(app);
    await app.register(servekitRestPlugin, {
      dataplane: this.dataplane,
      maxBodySize: this.options.maxBodySize ?? 64 * 1024 * 1024,
      metrics: cluster.isWorker
        ? workerMetrics(this.metrics.registry)
        : async () => ({ contentType: this.metrics.registry.contentType, body: await this.metrics.registry.metrics() }),
      payloadLog: this.payloadLog,
      tracer: this.tracer,
    });
    await app.listen({ port: httpPort, host });
    const address = app.server.address();
    const addresses: ServerAddresses = { httpPort: typeof address === 'object' && address ? address.port : httpPort };
    this.payloadLog?.listeningOn(addresses.httpPort);
    if (enableGrpc) {
      this.grpc = createGrpcServer(this.dataplane, {
        maxMessageSize: this.options.grpcMaxMessageSize ?? 64 * 1024 * 1024,
        payloadLog: this.payloadLog,
        tracer: this.tracer,
        wrapHandlers: this.auth?.guardGrpc,
      });
      addresses.grpcPort = await bindGrpc(this.grpc, host, grpcPort, tls && grpcServerCredentials(tls));
    }
    if (this.options.healthPort !== undefined) {
      const health = createHealthServer(this.dataplane);
      this.health = health;
      await new Promise<void>((resolve, reject) => {
        health.once('error', reject);
        health.listen(this.options.healthPort, host, () => resolve());
      });
      const bound = health.address();
      addresses.healthPort = typeof bound === 'object' && bound ? bound.port : this.options.healthPort;
    }
    this.addresses = addresses;
    // No "http" key here: the line with it (below) is the one that says the models are loaded and where.
    this.logger.info(
      {
        http_address: `${host}:${addresses.httpPort}`,
        grpc_address: addresses.grpcPort && `${host}:${addresses.grpcPort}`,
        health_address: addresses.healthPort === undefined ? undefined : `${host}:${addresses.healthPort}`,
        tls: tls && (tls.mutual ? 'mutual' : 'on'),
        loading: this.repository.names(),
      },
      `servekit ${SERVER_VERSION} listening on ${host}:${addresses.httpPort}; live, not ready while models load`,
    );
    try {
      const failures = await this.repository.loadAll();
      for (const [name, reason] of failures) this.logger.error({ model: name }, reason);
    } finally {
      this.dataplane.startupDone();
    }
    const served = this.repository.index().map((e) => `${e.name}${e.version ? `@${e.version}` : ''}:${e.state}`);
    this.logger.info(
      {
        http: `${host}:${addresses.httpPort}`,
        grpc: addresses.grpcPort && `${host}:${addresses.grpcPort}`,
        health: addresses.healthPort === undefined ? undefined : `${host}:${addresses.healthPort}`,
        models: served,
      },
      `servekit ${SERVER_VERSION} serving ${served.join(', ') || 'no models'} on http ${host}:${addresses.httpPort}${
        addresses.grpcPort ? ` and grpc ${host}:${addresses.grpcPort}` : ''
      }`,
    );
    return addresses;
  }

  /** Bound HTTP port (after start). */
  get httpPort(): number {
    if (!this.addresses) throw new Error('ModelServer is not started');
    return this.addresses.httpPort;
  }

  /** Bound gRPC port (after start, when enabled). */
  get grpcPort(): number | undefined {
    return this.addresses?.grpcPort;
  }

  /** Bound health port (after start, when asked for). */
  get healthPort(): number | undefined {
    return this.addresses?.healthPort;
  }

  /** The fastify instance (after start), e.g. to add routes. */
  get http(): FastifyInstance | undefined {
    return this.app;
  }

  /**
   * Graceful stop, Kubernetes-style: readiness turns false at once while requests are still accepted and answered
   * for the drain delay (endpoints update meanwhile); then the listeners close, requests still arriving on open
   * connections are answered with `Connection: close`, in-flight requests finish, idle keep-alive connections close
   * and gRPC shuts down gracefully; connections still open at the end of the grace period are cut. Then models unload.
   */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  /** Stop on SIGTERM/SIGINT and exit 0 (exit 1 if stopping fails). */
  installSignalHandlers(): void {
    const onSignal = (signal: string) => {
      this.logger.info({ signal }, 'shutting down');
      this.stop().then(
        () => process.exit(0),
        (err: Error) => {
          this.logger.error({ err: err.message }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }

  private async doStop(): Promise<void> {
    const started = Date.now();
    const grace = this.options.gracePeriodMs ?? 30_000;
    const deadline = started + grace;
    // A server that is not ready (still loading at startup) is in no Service's endpoints: nothing to drain.
    const drainDelay = this.dataplane.ready() ? Math.max(0, Math.min(this.options.drainDelayMs ?? 0, grace)) : 0;
    this.dataplane.startDraining();
    if (drainDelay > 0) {
      this.logger.info({ drainDelayMs: drainDelay }, 'not ready; still serving during the drain delay');
      await new Promise((resolve) => setTimeout(resolve, drainDelay));
    }
    const grpcServer = this.grpc;
    const forced = setTimeout(
      () => {
        this.logger.warn({ graceMs: grace }, 'grace period over; closing open connections');
        grpcServer?.forceShutdown();
      },
      Math.max(0, deadline - Date.now()),
    );
    forced.unref();
    try {
      await Promise.all([
        this.httpDrain?.drain(deadline),
        new Promise<void>((resolve) => (grpcServer ? grpcServer.tryShutdown(() => resolve()) : resolve())),
      ]);
    } finally {
      clearTimeout(forced);
    }
    this.dataplane.stopAdmitting();
    await this.app?.close();
    await this.payloadLog?.close(deadline);
    await this.dataplane.close();
    await this.repository.unloadAll(Math.max(0, deadline - Date.now()));
    const health = this.health;
    if (health) {
      const closed = new Promise<void>((resolve) => health.close(() => resolve()));
      health.closeAllConnections();
      await closed;
    }
    this.tlsFiles?.close();
    await this.tracer?.shutdown(); // exports the spans still buffered
    this.auth?.close();
  }

  private async registerDocs(app: FastifyInstance): Promise<void> {
    const { default: swagger } = await import('@fastify/swagger');
    const { default: swaggerUi } = await import('@fastify/swagger-ui');
    await app.register(swagger, {
      mode: 'static',
      specification: { document: openApiDocument(SERVER_VERSION) as never },
    });
    await app.register(swaggerUi, { routePrefix: '/docs' });
  }

  private async superviseWorkers(httpPort: number, grpcPort: number | undefined): Promise<ServerAddresses> {
    const n = this.options.workers ?? 1;
    serveClusterMetrics();
    let stopping = false;
    const online = new Promise<void>((resolve) => {
      let count = 0;
      cluster.on('listening', () => {
        if (++count === n) resolve();
      });
    });
    for (let i = 0; i < n; i++) cluster.fork();
    cluster.on('exit', (worker, code, signal) => {
      if (stopping) return;
      this.logger.error({ worker: worker.process.pid, code, signal }, 'worker died; starting a new one');
      cluster.fork();
    });
    const shutdown = (signal: NodeJS.Signals) => {
      stopping = true;
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill(signal);
      const remaining = () => Object.keys(cluster.workers ?? {}).length;
      const check = setInterval(() => {
        if (remaining() === 0) {
          clearInterval(check);
          process.exit(0);
        }
      }, 50);
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGTERM'));
    // Each worker re-reads the token file on SIGHUP: pass the signal on.
    if (this.options.auth?.tokenFile) {
      process.on('SIGHUP', () => {
        for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGHUP');
      });
    }
    await online;
    this.logger.info({ workers: n, httpPort, grpcPort }, `servekit primary supervising ${n} workers`);
    return { httpPort, grpcPort };
  }
}

/** The payload logger of a server, its module loaded only when payload logging is on. */
async function startPayloadLog(server: ModelServer, options: PayloadLogOptions): Promise<PayloadLogger> {
  const { PayloadLogger, defaultComponent } = await import('../payload-log/payload-logger.js');
  return new PayloadLogger(options, server.metrics.registry, server.logger, defaultComponent(server.repository));
}
