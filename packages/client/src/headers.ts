// Moved to @servekit/core (a Transformer forwards them on every hop); re-exported here for client users.
export { FORWARDED_HEADERS, forwardHeaders } from '@servekit/core';
