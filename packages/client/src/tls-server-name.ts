/**
 * gRPC over TLS to an IP address on Node.js ≥ 26. grpc-js (1.14) sets the TLS ServerName (SNI) to the target's host,
 * an IP address included; RFC 6066 forbids a literal address there, Node ≤ 24 sent it anyway with a deprecation
 * warning (DEP0123), and Node 26 refuses it: `tls.connect` throws ERR_INVALID_ARG_VALUE and every call fails with
 * UNAVAILABLE "No connection established". The certificate is checked against the host either way (Node checks the
 * server name when there is one, else the host), so leaving the name out for an address changes nothing else.
 */
import { isIP } from 'node:net';
import type * as grpc from '@grpc/grpc-js';

/** What a secure connector of grpc-js keeps for `tls.connect` (createSsl / createFromSecureContext credentials). */
interface ConnectorWithOptions {
  connectionOptions?: { servername?: unknown };
}

/**
 * `credentials` whose TLS connections name no server when the target is an IP address (hosts keep their name). Other
 * kinds of credentials, and grpc-js versions whose connectors keep no options, come back as they are.
 */
export function withoutIpServerName(credentials: grpc.ChannelCredentials): grpc.ChannelCredentials {
  const create = credentials._createSecureConnector;
  if (!credentials._isSecure() || typeof create !== 'function') return credentials;
  // A view of the credentials, not a copy: grpc-js compares credentials by their secure context (`_equals`), which the
  // view inherits, and `compose` (call credentials) wraps the view, so its connectors pass through here too.
  const view: grpc.ChannelCredentials = Object.create(credentials);
  view._createSecureConnector = (...args) => {
    const connector = create.apply(credentials, args);
    const options = (connector as ConnectorWithOptions).connectionOptions;
    if (typeof options?.servername === 'string' && isIP(options.servername) !== 0) delete options.servername;
    return connector;
  };
  return view;
}
