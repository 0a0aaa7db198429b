/** OpenAPI 3 description of servekit's REST API, served at /docs when --enable_docs_url is set. */
export function openApiDocument(version: string): Record<string, unknown> {
  const json = (schema: Record<string, unknown>) => ({ content: { 'application/json': { schema } } });
  const error = { description: 'Error', ...json({ $ref: '#/components/schemas/Error' }) };
  const name = { name: 'name', in: 'path', required: true, schema: { type: 'string' } };
  const ver = { name: 'version', in: 'path', required: true, schema: { type: 'string' } };
  const errors = { 400: error, 404: error, 503: error };
  const infer = {
    summary: 'Run inference (V2). JSON, or JSON + binary tensors with Inference-Header-Content-Length.',
    requestBody: json({ $ref: '#/components/schemas/InferRequest' }),
    responses: { 200: { description: 'OK', ...json({ $ref: '#/components/schemas/InferResponse' }) }, ...errors },
  };
  const tensor = {
    type: 'object',
    required: ['name', 'datatype', 'shape'],
    properties: {
      name: { type: 'string' },
      datatype: { type: 'string', example: 'FP32' },
      shape: { type: 'array', items: { type: 'integer' } },
      parameters: { type: 'object' },
      data: { type: 'array', items: {} },
    },
  };
  return {
    openapi: '3.0.3',
    info: { title: 'servekit', version, description: 'KServe V1 and Open Inference Protocol (V2) REST API.' },
    paths: {
      '/': {
        get: { summary: 'Liveness (KServe V1): {"status": "alive"}.', responses: { 200: { description: 'OK' } } },
      },
      '/v1/models': { get: { summary: 'List models (V1).', responses: { 200: { description: 'OK' } } } },
      '/v1/models/{name}': { get: { summary: 'Model readiness (V1).', parameters: [name], responses: errors } },
      '/v1/models/{name}:predict': {
        post: {
          summary: 'Predict (V1): {"instances": [...]} or {"inputs": ...} → {"predictions": [...]}.',
          parameters: [name],
          requestBody: json({ type: 'object', properties: { instances: { type: 'array', items: {} } } }),
          responses: { 200: { description: 'OK' }, ...errors },
        },
      },
      '/v1/models/{name}:explain': { post: { summary: 'Explain (V1).', parameters: [name], responses: errors } },
      '/v2': { get: { summary: 'Server metadata.', responses: { 200: { description: 'OK' } } } },
      '/v2/health/live': { get: { summary: 'Liveness.', responses: { 200: { description: 'OK' } } } },
      '/v2/health/ready': { get: { summary: 'Readiness.', responses: { 200: { description: 'OK' }, 503: error } } },
      '/v2/models/{name}': { get: { summary: 'Model metadata.', parameters: [name], responses: errors } },
      '/v2/models/{name}/versions/{version}': {
        get: { summary: 'Model version metadata.', parameters: [name, ver], responses: errors },
      },
      '/v2/models/{name}/ready': { get: { summary: 'Model readiness.', parameters: [name], responses: errors } },
      '/v2/models/{name}/versions/{version}/ready': {
        get: { summary: 'Model version readiness.', parameters: [name, ver], responses: errors },
      },
      '/v2/models/{name}/infer': { post: { ...infer, parameters: [name] } },
      '/v2/models/{name}/versions/{version}/infer': { post: { ...infer, parameters: [name, ver] } },
      '/v2/models/{name}/config': {
        get: { summary: 'Triton model configuration.', parameters: [name], responses: errors },
      },
      '/v2/models/{name}/versions/{version}/config': {
        get: { summary: 'Triton model configuration of a version.', parameters: [name, ver], responses: errors },
      },
      '/v2/models/stats': {
        get: { summary: 'Triton statistics of every ready model.', responses: { 200: { description: 'OK' } } },
      },
      '/v2/models/{name}/stats': {
        get: { summary: 'Triton statistics of a model, per version.', parameters: [name], responses: errors },
      },
      '/v2/models/{name}/versions/{version}/stats': {
        get: { summary: 'Triton statistics of a model version.', parameters: [name, ver], responses: errors },
      },
      '/v2/repository/index': {
        post: { summary: 'Models and their states.', responses: { 200: { description: 'OK' } } },
      },
      '/v2/repository/models/{name}/load': {
        post: { summary: 'Load a model.', parameters: [name], responses: errors },
      },
      '/v2/repository/models/{name}/unload': {
        post: { summary: 'Unload a model.', parameters: [name], responses: errors },
      },
      '/metrics': { get: { summary: 'Prometheus metrics.', responses: { 200: { description: 'OK' } } } },
    },
    components: {
      schemas: {
        Error: { type: 'object', properties: { error: { type: 'string' } } },
        InferRequest: {
          type: 'object',
          required: ['inputs'],
          properties: {
            id: { type: 'string' },
            parameters: { type: 'object' },
            inputs: { type: 'array', items: tensor },
            outputs: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' } } } },
          },
        },
        InferResponse: {
          type: 'object',
          properties: {
            model_name: { type: 'string' },
            model_version: { type: 'string' },
            id: { type: 'string' },
            outputs: { type: 'array', items: tensor },
          },
        },
      },
    },
  };
}
