import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { DataPlane } from '../dataplane.js';
import { modelConfig } from './model-config.js';

interface ModelParams {
  name: string;
  version?: string;
}

/** REST routes of Triton's statistics and model configuration extensions. */
export function registerTritonExtensionRoutes(app: FastifyInstance, dataplane: DataPlane): void {
  app.get('/v2/models/stats', async () => ({ model_stats: dataplane.statistics.report(dataplane.repository) }));
  const stats = async (request: FastifyRequest<{ Params: ModelParams }>) => ({
    model_stats: dataplane.statistics.report(dataplane.repository, request.params.name, request.params.version),
  });
  app.get('/v2/models/:name/stats', stats);
  app.get('/v2/models/:name/versions/:version/stats', stats);
  const config = async (request: FastifyRequest<{ Params: ModelParams }>) =>
    modelConfig(dataplane, request.params.name, request.params.version);
  app.get('/v2/models/:name/config', config);
  app.get('/v2/models/:name/versions/:version/config', config);
}
