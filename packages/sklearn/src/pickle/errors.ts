/** Errors raised while reading a pickle/joblib file or converting its estimator. */
import { refusedGlobalHint } from './refused-hints.js';

/** The file is not a readable pickle/joblib stream (truncated, corrupt, unsupported compression). */
export class PickleFormatError extends Error {
  override readonly name = 'PickleFormatError';
}

/** The pickle references a global outside the allow-list (e.g. os.system); nothing was executed. */
export class UnsafePickleError extends Error {
  override readonly name = 'UnsafePickleError';
  constructor(
    /** The refused global, as `module.name`. */
    readonly global: string,
    detail = refusedGlobalHint(global),
  ) {
    super(
      `refusing to load pickle: it references the global '${global}', which is not on the allow-list of numpy/scikit-learn/joblib names${detail}. Nothing in the file was executed.`,
    );
  }
}

/** The estimator (or one of its steps) has no converter. */
export class UnsupportedEstimatorError extends Error {
  override readonly name = 'UnsupportedEstimatorError';
}
