import { InvalidInput } from '../errors.js';

/**
 * Checks the `parameters` of a V2 repository load request (REST body or gRPC message) against what servekit does.
 * A load always re-reads the model's files, so Triton's `config` override (a JSON string) and `file:<path>`
 * contents are refused with a 400 saying so, rather than silently ignored; a `config` that is not valid JSON is
 * refused as such. Other parameters are ignored.
 */
export function checkLoadParameters(name: string, parameters: unknown): void {
  if (parameters === undefined || parameters === null) return;
  if (typeof parameters !== 'object' || Array.isArray(parameters)) {
    throw new InvalidInput(`Load request "parameters" must be an object, got ${describe(parameters)}.`);
  }
  const params = parameters as Record<string, unknown>;
  if ('config' in params) {
    const config = params.config;
    if (typeof config !== 'string') {
      throw new InvalidInput(
        `Load parameter "config" must be a JSON string (a model configuration), got ${describe(config)}.`,
      );
    }
    try {
      JSON.parse(config);
    } catch (err) {
      throw new InvalidInput(`Load parameter "config" is not valid JSON: ${(err as Error).message}.`);
    }
    throw new InvalidInput(
      `Load parameter "config" is not supported: servekit has no model configuration to override; a load of ${name} re-reads its files from the model repository. Send the request without "config".`,
    );
  }
  const file = Object.keys(params).find((k) => k.startsWith('file:'));
  if (file !== undefined) {
    throw new InvalidInput(
      `Load parameter "${file}" is not supported: servekit loads models from the model repository's files only.`,
    );
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'string' ? 'a string' : `a ${typeof v}`;
}
