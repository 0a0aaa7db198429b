import { GrpcCode, ServekitError } from '@servekit/core';

/** An image (downloaded or sent inline) is over the size cap (HTTP 413, RESOURCE_EXHAUSTED). */
export class ImageTooLarge extends ServekitError {
  constructor(message: string) {
    super(message, 413, GrpcCode.RESOURCE_EXHAUSTED);
  }
}

/** The image server failed or could not be reached (HTTP 502, UNAVAILABLE). */
export class ImageFetchFailed extends ServekitError {
  constructor(message: string) {
    super(message, 502, GrpcCode.UNAVAILABLE);
  }
}

/** The image server did not answer within the fetch timeout (HTTP 504, DEADLINE_EXCEEDED). */
export class ImageFetchTimeout extends ServekitError {
  constructor(message: string) {
    super(message, 504, GrpcCode.DEADLINE_EXCEEDED);
  }
}
