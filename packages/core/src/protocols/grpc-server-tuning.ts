import type { ChannelOptions } from '@grpc/grpc-js';

/**
 * grpc-js server options that cut per-call work without changing what clients see. Channelz (grpc-js's
 * introspection registry, on by default) counts every call and stream and wraps every stream in a tracking
 * handler; servekit serves no channelz service, so nothing reads those counters.
 */
export const GRPC_SERVER_TUNING: ChannelOptions = {
  'grpc.enable_channelz': 0,
};
