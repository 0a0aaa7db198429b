import type { Server as HttpServer, ServerOptions as HttpServerOptions } from 'node:http';
import { createServer as createHttpsServer, type ServerOptions as HttpsServerOptions } from 'node:https';
import * as grpc from '@grpc/grpc-js';
import type { FastifyServerFactory } from 'fastify';
import type { Logger } from 'pino';
import { secureContextOptions, TlsFiles, type TlsOptions } from './tls.js';

/** Open the TLS files (TlsConfigError naming the flag when one is unusable) and log each reload or failed reload. */
export async function openTlsFiles(options: TlsOptions, logger: Logger): Promise<TlsFiles> {
  const files = await TlsFiles.open(options);
  files.onChange((m) =>
    logger.info({ serial: m.serialNumber, fingerprint256: m.fingerprint256 }, 'TLS certificate reloaded'),
  );
  files.onReloadError((err) => logger.warn({ err: err.message }, 'TLS files changed but cannot be used; kept'));
  return files;
}

/** node:https server options for the files: the certificate, and with a client CA, client certificates required. */
export function httpsServerOptions(files: TlsFiles): HttpsServerOptions {
  return { ...secureContextOptions(files.current), requestCert: files.mutual, rejectUnauthorized: files.mutual };
}

/** The options fastify hands a server factory that its own servers get (defaults filled in by fastify). */
interface FastifyTimeouts {
  http?: HttpServerOptions;
  keepAliveTimeout?: number;
  requestTimeout?: number;
  connectionTimeout?: number;
  maxRequestsPerSocket?: number;
}

/**
 * fastify's server for TLS: node:https with fastify's `http` options (the timeouts) and the files' certificate; new
 * connections get each new certificate (`setSecureContext`), open ones keep theirs. An https.Server is an
 * http.Server over TLS (fastify's own `https` option would type the instance as another kind of server).
 */
export function httpsServerFactory(files: TlsFiles): FastifyServerFactory {
  return (handler, fastifyOptions) => {
    const options = fastifyOptions as FastifyTimeouts;
    const server = createHttpsServer({ ...options.http, ...httpsServerOptions(files) }, handler);
    // What fastify does to the servers it makes itself (it leaves a factory's server alone).
    if (options.keepAliveTimeout !== undefined) server.keepAliveTimeout = options.keepAliveTimeout;
    if (options.requestTimeout !== undefined) server.requestTimeout = options.requestTimeout;
    if (options.connectionTimeout !== undefined) server.setTimeout(options.connectionTimeout);
    if ((options.maxRequestsPerSocket ?? 0) > 0) server.maxRequestsPerSocket = options.maxRequestsPerSocket ?? 0;
    files.onChange((material) => server.setSecureContext(secureContextOptions(material)));
    return server as HttpServer;
  };
}

/**
 * grpc-js server credentials that follow the files: grpc-js registers a secure-context watcher on the credentials
 * of each bound port and calls `setSecureContext` on its HTTP/2 server with every update, so new connections get the
 * new certificate without a restart (open ones keep theirs).
 */
class ReloadingServerCredentials extends grpc.ServerCredentials {
  constructor(files: TlsFiles) {
    super({ requestCert: files.mutual, rejectUnauthorized: files.mutual }, secureContextOptions(files.current));
    files.onChange((material) => this.updateSecureContextOptions(secureContextOptions(material)));
  }

  override _equals(other: grpc.ServerCredentials): boolean {
    return other === this;
  }
}

/** gRPC server credentials from the files, reloading when they change (see {@link TlsFiles}). */
export function grpcServerCredentials(files: TlsFiles): grpc.ServerCredentials {
  return new ReloadingServerCredentials(files);
}
