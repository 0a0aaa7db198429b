// A real OTLP/HTTP traces receiver on loopback: accepts POST /v1/traces (JSON, as the OTLP/HTTP exporter sends it)
// and decodes every span with its resource's service.name.
import { createServer, type Server } from 'node:http';

/** An OTLP attribute value as JSON encodes it. */
interface AnyValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}

interface KeyValue {
  key: string;
  value: AnyValue;
}

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  traceState?: string;
  name: string;
  kind: number;
  attributes?: KeyValue[];
  links?: Array<{ traceId: string; spanId: string }>;
  status?: { code?: number; message?: string };
}

interface ExportRequest {
  resourceSpans?: Array<{
    resource?: { attributes?: KeyValue[] };
    scopeSpans?: Array<{ spans?: OtlpSpan[] }>;
  }>;
}

/** One received span, decoded. */
export interface ReceivedSpan {
  /** service.name of the exporting server. */
  service: string;
  traceId: string;
  spanId: string;
  /** Parent span id, undefined for a root. */
  parentSpanId?: string;
  /** W3C tracestate of the span ('' when none). */
  traceState: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client. */
  kind: number;
  attributes: Record<string, string | number | boolean>;
  links: Array<{ traceId: string; spanId: string }>;
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  statusCode: number;
  statusMessage?: string;
}

function decodeValue(v: AnyValue): string | number | boolean {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  throw new Error(`unexpected attribute value ${JSON.stringify(v)}`);
}

function decodeAttributes(kvs: KeyValue[] | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const kv of kvs ?? []) out[kv.key] = decodeValue(kv.value);
  return out;
}

/** Decode one OTLP/HTTP JSON export request. */
export function decodeExport(body: ExportRequest): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const rs of body.resourceSpans ?? []) {
    const service = String(decodeAttributes(rs.resource?.attributes)['service.name']);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        spans.push({
          service,
          traceId: s.traceId,
          spanId: s.spanId,
          parentSpanId: s.parentSpanId || undefined,
          traceState: s.traceState ?? '',
          name: s.name,
          kind: s.kind,
          attributes: decodeAttributes(s.attributes),
          links: (s.links ?? []).map((l) => ({ traceId: l.traceId, spanId: l.spanId })),
          statusCode: s.status?.code ?? 0,
          statusMessage: s.status?.message,
        });
      }
    }
  }
  return spans;
}

/** A loopback OTLP/HTTP receiver; `spans` grows as exports arrive. */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  /** Content types of the export requests received. */
  readonly contentTypes: string[] = [];
  private readonly server: Server;

  private constructor(server: Server) {
    this.server = server;
  }

  /** Start listening on 127.0.0.1 (a free port). */
  static async start(): Promise<OtlpReceiver> {
    let receiver!: OtlpReceiver;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.method !== 'POST' || req.url !== '/v1/traces') {
          res.writeHead(404).end();
          return;
        }
        receiver.contentTypes.push(String(req.headers['content-type']));
        receiver.spans.push(...decodeExport(JSON.parse(Buffer.concat(chunks).toString('utf8')) as ExportRequest));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    receiver = new OtlpReceiver(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  /** The traces URL exporters post to. */
  get url(): string {
    const a = this.server.address();
    if (typeof a !== 'object' || !a) throw new Error('receiver not listening');
    return `http://127.0.0.1:${a.port}/v1/traces`;
  }

  /** The base endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT` style). */
  get endpoint(): string {
    return this.url.replace(/\/v1\/traces$/, '');
  }

  /** Stop listening. */
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
