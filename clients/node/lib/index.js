'use strict';
// framerpc for Node.js: a client for the framerpc framed protocol (docs/protocol.md).
//
//   const framerpc = require('framerpc');
//   const { EchoServiceClient } = require('./proto/echo_frpc');   // protoc-gen-frpcjs output
//   const channel = new framerpc.Channel('127.0.0.1:7000');
//   const reply = await new EchoServiceClient(channel).Say({ text: 'hi' }, { timeout: 1000 });
const status = require('./status');
const codec = require('./codec');
const envelope = require('./envelope');
const { Channel, UnaryCall, INITIAL_WINDOW, MAX_WINDOW } = require('./channel');
const { BalancedChannel } = require('./balanced');
const { StreamCall, withAttachment } = require('./stream');
const { MethodKind, normalizeMethod, protobuf } = require('./message');
const { parseAddress } = require('./address');
const registry = require('./registry');
const checksum = require('./checksum');

/** The base of generated clients: one Channel (or BalancedChannel), and the call helpers. */
class Client {
  constructor(channel) {
    if (!(channel instanceof Channel) && !(channel instanceof BalancedChannel)) {
      throw new TypeError('a client needs a framerpc.Channel or BalancedChannel');
    }
    this.$channel = channel;
  }
}

module.exports = {
  Channel,
  BalancedChannel,
  Client,
  UnaryCall,
  StreamCall,
  withAttachment,
  MethodKind,
  method: normalizeMethod,
  parseAddress,
  StatusCode: status.StatusCode,
  statusName: status.statusName,
  RpcError: status.RpcError,
  FrameError: status.FrameError,
  FrameLimits: codec.FrameLimits,
  codec,
  envelope,
  INITIAL_WINDOW,
  MAX_WINDOW,
  protobuf,
  registry,
  checksum,
};
