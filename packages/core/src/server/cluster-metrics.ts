import cluster from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';

const REQUEST = 'servekit:cluster-metrics';
const REPLY = 'servekit:cluster-metrics-reply';

interface MetricsMessage {
  type: string;
  id: number;
  body?: string;
  contentType?: string;
}

/** In the primary: answer workers' requests for metrics aggregated over every worker. */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, msg: MetricsMessage) => {
    if (msg?.type !== REQUEST) return;
    aggregator.clusterMetrics().then(
      (body) => worker.send({ type: REPLY, id: msg.id, body, contentType: aggregator.contentType }),
      (err: Error) => worker.send({ type: REPLY, id: msg.id, body: `# aggregation failed: ${err.message}\n` }),
    );
  });
}

let nextId = 0;

/** In a worker: expose `registry` to the primary's aggregator and return a function fetching the aggregate. */
export function workerMetrics(registry: Registry): () => Promise<{ contentType: string; body: string }> {
  // Constructing an AggregatorRegistry is what installs prom-client's worker-side reply listener.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
  return () =>
    new Promise((resolve, reject) => {
      const id = ++nextId;
      const timer = setTimeout(() => {
        process.off('message', onMessage);
        reject(new Error('metrics aggregation timed out'));
      }, 5000);
      const onMessage = (msg: MetricsMessage) => {
        if (msg?.type !== REPLY || msg.id !== id) return;
        clearTimeout(timer);
        process.off('message', onMessage);
        resolve({ contentType: msg.contentType ?? registry.contentType, body: msg.body ?? '' });
      };
      process.on('message', onMessage);
      process.send?.({ type: REQUEST, id });
    });
}
