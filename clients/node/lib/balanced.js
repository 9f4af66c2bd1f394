'use strict';
// A channel over several framerpc servers (docs/load_balancing.md), as the C++ BalancedChannel:
// the call methods of Channel, so generated clients take it.
//
//   const channel = new framerpc.BalancedChannel('ipv4:10.0.0.1:7000,10.0.0.2:7000',
//                                                { policy: 'round_robin' });
//
// Targets: 'ipv4:a:p,b:p', 'ipv6:[a]:p,[b]:p', 'a:p,b:p', or 'dns:///host:port' (every A and AAAA
// record, resolved when the first call is made and again, at most once a second, after a
// failure). Policies: 'pick_first' (the default) and 'round_robin'. A unary call that fails
// UNAVAILABLE ejects its server for ejectTime ms (doubling up to two minutes; a success re-admits
// it). A unary call that never left the client (RpcError.unsent: its connection could not be
// made) is sent to the next server at once, whatever the method. Streams go to a picked server
// and are not retried. Each server has a Channel of its own (options other than policy and
// ejectTime go to them).
const dns = require('dns');
const { Channel } = require('./channel');
const { RpcError, StatusCode } = require('./status');

const MAX_EJECT_MS = 120000;

function parseTarget(target) {
  if (target.startsWith('dns:')) {
    let rest = target.slice(4);
    if (rest.startsWith('//')) {
      if (!rest.startsWith('///')) throw new TypeError(`target '${target}': a DNS authority is not supported`);
      rest = rest.slice(3);
    }
    const colon = rest.lastIndexOf(':');
    const port = Number(rest.slice(colon + 1));
    if (colon <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) {
      throw new TypeError(`target '${target}': expected dns:///host:port`);
    }
    return { kind: 'dns', host: rest.slice(0, colon).replace(/^\[|\]$/g, ''), port };
  }
  let rest = target;
  for (const scheme of ['ipv4:', 'ipv6:']) if (rest.startsWith(scheme)) rest = rest.slice(scheme.length);
  const addresses = rest.split(',');
  if (addresses.some((a) => a === '' || !a.includes(':'))) {
    throw new TypeError(`target '${target}' names no address list`);
  }
  return { kind: 'static', addresses };
}

class BalancedCall extends Promise {
  static get [Symbol.species]() {
    return Promise;
  }

  /** Cancels the current attempt (CANCELLED) and sends no other. */
  cancel() {
    this._control.cancelled = true;
    return this._control.current !== null ? this._control.current.cancel() : false;
  }

  get responseAttachment() {
    return this._control.current !== null ? this._control.current.responseAttachment : undefined;
  }
}

class BalancedChannel {
  constructor(target, options = {}) {
    const { policy = 'pick_first', ejectTime = 1000, ...channelOptions } = options;
    if (policy !== 'pick_first' && policy !== 'round_robin') {
      throw new TypeError(`unknown policy '${policy}' (pick_first or round_robin)`);
    }
    if (!(ejectTime > 0)) throw new RangeError('ejectTime must be > 0 ms');
    this.target = target;
    this.policy = policy;
    this.ejectTime = ejectTime;
    this._parsed = parseTarget(target);
    const { tls } = channelOptions;
    if (this._parsed.kind === 'dns' && tls && (tls === true || tls.serverName === undefined)) {
      // Its servers are reached by address: the certificate is checked against the name.
      channelOptions.tls = { ...(tls === true ? {} : tls), serverName: this._parsed.host };
    }
    this._channelOptions = channelOptions;
    this._endpoints = new Map();  // address -> { address, channel, ejectedUntil, backoff }
    this._order = [];
    this._turn = 0;
    this._resolvedAt = 0;
    this._resolving = null;
    this._closed = false;
    if (this._parsed.kind === 'static') this._setAddresses(this._parsed.addresses);
  }

  get endpoints() {
    return [...this._order];
  }

  _setAddresses(addresses) {
    for (const address of addresses) {
      if (!this._endpoints.has(address)) {
        this._endpoints.set(address, {
          address, channel: new Channel(address, this._channelOptions), ejectedUntil: 0, backoff: 0,
        });
      }
    }
    this._order = addresses;
  }

  // Resolves a dns: target (once at first, then at most once a second when asked).
  _resolve(force) {
    if (this._parsed.kind !== 'dns') return Promise.resolve();
    if (this._resolving !== null) return this._resolving;
    if (!force && Date.now() - this._resolvedAt < 1000) return Promise.resolve();
    this._resolvedAt = Date.now();
    this._resolving = dns.promises.lookup(this._parsed.host, { all: true }).then((found) => {
      const addresses = [...new Set(found.map((a) => (a.family === 6 ? `[${a.address}]` : a.address)
        + `:${this._parsed.port}`))].sort();
      if (addresses.length > 0 && !this._closed) this._setAddresses(addresses);
    }, () => undefined).finally(() => {
      this._resolving = null;
    });
    return this._resolving;
  }

  _pick(avoid) {
    if (this._closed) throw new RpcError(StatusCode.CANCELLED, 'channel closed');
    const endpoints = this._order.map((a) => this._endpoints.get(a));
    if (endpoints.length === 0) {
      const error = new RpcError(StatusCode.UNAVAILABLE, `no endpoint for ${this.target}`);
      error.unsent = true;
      throw error;
    }
    const now = Date.now();
    let ready = endpoints.filter((e) => e.ejectedUntil <= now && !avoid.includes(e));
    if (ready.length === 0) ready = endpoints.filter((e) => !avoid.includes(e));
    if (ready.length === 0) ready = endpoints;
    return this.policy === 'round_robin' ? ready[this._turn++ % ready.length] : ready[0];
  }

  _finished(endpoint, error) {
    if (error && error.code === StatusCode.UNAVAILABLE) {
      endpoint.backoff = Math.min(endpoint.backoff * 2 || this.ejectTime, MAX_EJECT_MS);
      endpoint.ejectedUntil = Date.now() + endpoint.backoff;
      this._resolve(false);
    } else if (!error) {
      endpoint.backoff = 0;
      endpoint.ejectedUntil = 0;
    }
  }

  unaryCall(method, request, options = {}) {
    const control = { current: null, cancelled: false };
    const call = new BalancedCall((resolve, reject) => {
      const tried = [];
      const attempt = () => {
        let endpoint;
        try {
          endpoint = this._pick(tried);
        } catch (error) {
          reject(error);
          return;
        }
        const inner = endpoint.channel.unaryCall(method, request, options);
        control.current = inner;
        inner.then((response) => {
          this._finished(endpoint, null);
          resolve(response);
        }, (error) => {
          this._finished(endpoint, error);
          tried.push(endpoint);
          const left = this._order.filter((a) => !tried.includes(this._endpoints.get(a))).length;
          if (error instanceof RpcError && error.unsent && !control.cancelled && left > 0) {
            attempt();
          } else {
            reject(error);
          }
        });
      };
      this._resolve(this._resolvedAt === 0).then(attempt);
    });
    call._control = control;
    return call;
  }

  _stream(kind, ...args) {
    const endpoint = this._pick([]);
    return endpoint.channel[kind](...args);
  }

  /** Streams go to a picked server; their ends do not eject it. */
  serverStreamingCall(method, request, options) {
    return this._stream('serverStreamingCall', method, request, options);
  }

  clientStreamingCall(method, input, options) {
    return this._stream('clientStreamingCall', method, input, options);
  }

  bidiStreamingCall(method, input, options) {
    return this._stream('bidiStreamingCall', method, input, options);
  }

  close() {
    this._closed = true;
    const closing = [...this._endpoints.values()].map((e) => e.channel.close());
    this._endpoints.clear();
    this._order = [];
    return Promise.all(closing).then(() => undefined);
  }
}

module.exports = { BalancedChannel, BalancedCall, parseTarget };
