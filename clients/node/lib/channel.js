'use strict';
// The client side of the protocol over net.Socket: one multiplexed connection per Channel, calls
// matched by call id, deadlines, cancellation, GOAWAY, and streaming calls with per-stream credit
// flow control. Frame kinds and statuses are docs/protocol.md §7-§11; the streams are in
// stream.js.
const net = require('net');
const tls = require('tls');
const { performance } = require('perf_hooks');

const { FrameDecoder, FrameLimits, DEFAULT_LIMITS, encodeFrameParts } = require('./codec');
const { FrameKind, FrameFlag } = require('./envelope');
const { StatusCode, RpcError, codeFromWire } = require('./status');
const { parseAddress } = require('./address');
const { ALPN, tlsConnector, describeTlsError, isTlsError } = require('./tls');
const { serialize, deserialize, MethodKind, normalizeMethod } = require('./message');

const INITIAL_WINDOW = 1 << 20;  // §11.2: both directions of every stream start with 1 MiB
const MAX_WINDOW = 2 ** 31 - 1;
const EMPTY = Buffer.alloc(0);

// -----------------------------------------------------------------------------------------------
// Options shared by every kind of call.

/** The metadata option as [{key, value}]: from an object, a Map, or [key, value] pairs. */
function normalizeMetadata(metadata) {
  if (metadata === undefined || metadata === null) return [];
  let entries;
  if (metadata instanceof Map || Array.isArray(metadata)) entries = metadata;
  else if (typeof metadata === 'object') entries = Object.entries(metadata);
  else throw new TypeError(`metadata must be an object, a Map or [key, value] pairs, not ${typeof metadata}`);
  const out = [];
  for (const pair of entries) {
    if (!Array.isArray(pair) || pair.length !== 2) throw new TypeError('metadata pairs must be [key, value]');
    const [key, value] = pair;
    for (const part of [key, value]) {
      if (typeof part !== 'string' && !(part instanceof Uint8Array)) {
        throw new TypeError(`metadata keys and values must be strings or bytes, not ${typeof part}`);
      }
    }
    out.push({ key, value });
  }
  return out;
}

function asAttachment(attachment) {
  if (attachment === undefined || attachment === null) return EMPTY;
  if (Buffer.isBuffer(attachment)) return attachment;
  if (attachment instanceof Uint8Array) {
    return Buffer.from(attachment.buffer, attachment.byteOffset, attachment.byteLength);
  }
  throw new TypeError(`attachment must be a Buffer or Uint8Array, not ${typeof attachment}`);
}

function checkWindow(window) {
  if (window === undefined) return INITIAL_WINDOW;
  if (!Number.isInteger(window) || window < 1 || window > MAX_WINDOW) {
    throw new RangeError(`window must be an integer in [1, 2^31 - 1], not ${window}`);
  }
  return window;
}

/**
 * The deadline of a call as a performance.now() value (or null): from `timeout` (milliseconds from
 * now) or `deadline` (a Date, or epoch milliseconds), whichever is sooner.
 */
function deadlineOf(options) {
  let deadline = null;
  const now = performance.now();
  if (options.timeout !== undefined && options.timeout !== null) {
    if (typeof options.timeout !== 'number' || Number.isNaN(options.timeout)) {
      throw new TypeError(`timeout must be a number of milliseconds, not ${options.timeout}`);
    }
    if (options.timeout !== Infinity) deadline = now + options.timeout;  // Infinity: none
  }
  if (options.deadline !== undefined && options.deadline !== null) {
    const at = options.deadline instanceof Date ? options.deadline.getTime() : options.deadline;
    if (typeof at !== 'number' || Number.isNaN(at)) {
      throw new TypeError('deadline must be a Date or epoch milliseconds');
    }
    const mono = now + (at - Date.now());
    deadline = deadline === null ? mono : Math.min(deadline, mono);
  }
  return deadline;
}

/** §7.2: the relative deadline sent, never 0 (which means none) for a set deadline. */
function timeoutUs(deadline) {
  if (deadline === null) return 0;
  return Math.max(1, Math.min(Number.MAX_SAFE_INTEGER, Math.floor((deadline - performance.now()) * 1000)));
}

// Timers cannot wait longer than 2^31 - 1 ms; a later deadline is re-armed when that passes.
const MAX_TIMER_MS = 2 ** 31 - 1;

// -----------------------------------------------------------------------------------------------
// Calls. Every call on a connection has: id, done, requestStarted, and the handlers
// onResponse(frame), onStreamMessage(frame), onWindowUpdate(credit), fail(error).

/** Common state and lifecycle: deadline timer, abort signal, registration, CANCEL. */
class CallBase {
  constructor(channel, method, options) {
    this.channel = channel;
    this.method = method;
    this.id = 0;
    this.conn = null;
    this.done = false;
    this.error = null;
    this.requestStarted = false;  // a frame of the call has been handed to the socket
    this.deadline = null;
    this._timer = null;
    this._signal = null;
    this._onAbort = null;
    this.options = options;
  }

  // Checks the options and arms the deadline and the signal. Returns an error if the call must end
  // before it starts (nothing is sent then), else null.
  _prepare() {
    const options = this.options;
    if (this.channel._closed) return new RpcError(StatusCode.CANCELLED, 'channel closed');
    const signal = options.signal;
    if (signal !== undefined && signal !== null) {
      if (signal.aborted) return new RpcError(StatusCode.CANCELLED, 'cancelled before start');
      this._signal = signal;
      this._onAbort = () => this.cancel();
      signal.addEventListener('abort', this._onAbort, { once: true });
    }
    this.deadline = deadlineOf(options);
    if (this.deadline !== null) {
      const remaining = this.deadline - performance.now();
      if (remaining <= 0) {
        return new RpcError(StatusCode.DEADLINE_EXCEEDED, 'deadline exceeded before the call started');
      }
      this._arm(remaining);
    }
    return null;
  }

  _arm(remaining) {
    this._timer = setTimeout(() => {
      const left = this.deadline - performance.now();
      if (left > 0) this._arm(left);  // a deadline further away than one timer can wait
      else this.abort(new RpcError(StatusCode.DEADLINE_EXCEEDED, 'deadline exceeded'));
    }, Math.min(Math.max(remaining, 1), MAX_TIMER_MS));
  }

  // Ends the call locally (OK when error is null). Returns false if it had already ended.
  _finish(error) {
    if (this.done) return false;
    this.done = true;
    this.error = error;
    if (this._timer !== null) clearTimeout(this._timer);
    if (this._signal !== null) this._signal.removeEventListener('abort', this._onAbort);
    if (this.conn !== null) this.conn.unregister(this);
    return true;
  }

  /** Ends the call with `error` and tells the server (CANCEL), if the REQUEST went out. */
  abort(error) {
    const conn = this.conn;
    if (!this._end(error)) return false;
    if (conn !== null && this.requestStarted) conn.sendCancel(this.id);
    return true;
  }

  /** Cancels the call: CANCELLED "cancelled by the client" (§7.3). No-op once it has ended. */
  cancel() {
    return this.abort(new RpcError(StatusCode.CANCELLED, 'cancelled by the client'));
  }

  // The connection failed: the call ends with `error`, nothing is sent.
  fail(error) {
    this._end(error);
  }

  onWindowUpdate() {}

  onStreamMessage() {}
}

/** A unary call: one REQUEST, one RESPONSE. */
class UnaryState extends CallBase {
  constructor(channel, method, options, resolve, reject) {
    super(channel, method, options);
    this.resolve = resolve;
    this.reject = reject;
    this.responseAttachment = EMPTY;
  }

  _end(error) {
    if (!this._finish(error)) return false;
    this.reject(error);
    return true;
  }

  onResponse(frame) {
    const envelope = frame.envelope;
    if (envelope.statusCode !== 0) {
      this._end(new RpcError(codeFromWire(envelope.statusCode), envelope.statusMessage));
      return;
    }
    let response;
    try {
      response = deserialize(this.method.responseType, frame.message);
    } catch (_) {
      this._end(new RpcError(StatusCode.INTERNAL, 'response message does not parse'));
      return;
    }
    if (!this._finish(null)) return;
    this.responseAttachment = frame.attachment;
    this.resolve(response);
  }
}

/**
 * The promise of a unary call's response message, with the call's other results and controls:
 * `responseAttachment` (a Buffer, once it resolved), `callId` and `cancel()`.
 */
class UnaryCall extends Promise {
  static get [Symbol.species]() {
    return Promise;
  }

  /** CANCELLED "cancelled by the client", CANCEL to the server; false once the call has ended. */
  cancel() {
    return this._state.cancel();
  }

  get callId() {
    return this._state.id;
  }

  get responseAttachment() {
    return this._state.responseAttachment;
  }
}

// -----------------------------------------------------------------------------------------------
// The connection.

class Connection {
  constructor(channel) {
    this.channel = channel;
    this.target = channel.target;
    this.limits = channel.limits;
    this.decoder = new FrameDecoder(this.limits);
    this.calls = new Map();
    this.goaway = false;  // no new calls on this connection
    this.closed = false;  // nothing more is read or written
    this.connected = false;
    this.pending = [];  // [call, parts] to write once connected
    this._referenced = true;
    const address = channel.address;
    const where = address.path !== undefined ? { path: address.path }
      : { host: address.host, port: address.port, family: address.family || undefined };
    const secure = channel._tls !== null;
    // Under TLS the connect timeout covers the handshake: the connection is up at secureConnect.
    const socket = secure ? tls.connect({ ...where, ...channel._tls(address) }) : net.connect(where);
    this.socket = socket;
    this.closedPromise = new Promise((resolve) => socket.once('close', resolve));
    socket.setNoDelay(true);
    this._connectTimer = setTimeout(() => {
      this._fail(new RpcError(StatusCode.UNAVAILABLE, `connect to ${this.target} timed out`));
    }, channel.connectTimeout);
    if (secure) socket.once('secureConnect', () => this._onSecureConnect());
    else socket.once('connect', () => this._onConnect());
    socket.on('data', (chunk) => this._onData(chunk));
    socket.on('error', (error) => {
      if (secure && isTlsError(error)) {
        const cause = describeTlsError(error);
        this._fail(new RpcError(StatusCode.UNAVAILABLE, this.connected
          ? `connection to ${this.target} lost: TLS read: ${cause}`
          : `TLS handshake with ${this.target} failed: ${cause}`));
      } else if (!this.connected) {
        this._fail(new RpcError(StatusCode.UNAVAILABLE, `connect to ${this.target} failed: ${error.message}`));
      } else {
        this._fail(new RpcError(StatusCode.UNAVAILABLE, `connection to ${this.target} lost: ${error.message}`));
      }
    });
    socket.on('end', () => {
      this._fail(new RpcError(StatusCode.UNAVAILABLE, `connection to ${this.target} lost: end of stream`));
    });
    socket.on('close', () => {
      this._fail(new RpcError(StatusCode.UNAVAILABLE, `connection to ${this.target} lost: closed`));
    });
  }

  get usable() {
    return !this.closed && !this.goaway;
  }

  _onSecureConnect() {
    if (this.socket.alpnProtocol !== ALPN) {
      this._fail(new RpcError(StatusCode.UNAVAILABLE, `TLS handshake with ${this.target} failed: ` +
        `the server did not select ALPN ${ALPN} (it selected ${this.socket.alpnProtocol || 'none'})`));
      return;
    }
    this._onConnect();
  }

  _onConnect() {
    clearTimeout(this._connectTimer);
    if (this.closed) return;
    this.connected = true;
    const pending = this.pending;
    this.pending = [];
    const socket = this.socket;
    socket.cork();
    for (const [call, parts] of pending) {
      // A call that ended while the connection was being set up is never sent (§7.3).
      if (call !== null) {
        if (call.done) continue;
        call.requestStarted = true;
      }
      socket.write(parts[0]);
      if (parts[1].length) socket.write(parts[1]);
    }
    socket.uncork();
    this._updateRef();
  }

  register(call) {
    call.conn = this;
    this.calls.set(call.id, call);
    if (!this._referenced) this._updateRef();
  }

  unregister(call) {
    if (this.calls.get(call.id) === call) {
      this.calls.delete(call.id);
      if (this.calls.size === 0) this._updateRef();
    }
  }

  // An idle connection does not keep the process alive.
  _updateRef() {
    const busy = this.calls.size > 0 || this.pending.length > 0;
    if (busy === this._referenced || this.closed) return;
    this._referenced = busy;
    if (busy) this.socket.ref();
    else this.socket.unref();
  }

  /** Writes a frame ([head, attachment]) for `call` (null for connection-level frames). */
  write(call, parts) {
    if (this.closed) return;
    if (!this.connected) {
      this.pending.push([call, parts]);
      return;
    }
    if (call !== null) call.requestStarted = true;
    if (parts[1].length === 0) {
      this.socket.write(parts[0]);
    } else {
      this.socket.cork();
      this.socket.write(parts[0]);
      this.socket.write(parts[1]);
      this.socket.uncork();
    }
  }

  sendCancel(callId) {
    if (this.closed) return;
    this.write(null, encodeFrameParts({ kind: FrameKind.CANCEL, callId }, EMPTY, EMPTY, this.limits));
  }

  _onData(chunk) {
    if (this.closed) return;
    const decoder = this.decoder;
    try {
      decoder.push(chunk);
      for (let frame = decoder.next(); frame !== null && !this.closed; frame = decoder.next()) {
        this._onFrame(frame);
      }
    } catch (error) {
      if (error instanceof RpcError && error.name === 'FrameError') {
        this._fail(new RpcError(StatusCode.UNAVAILABLE, `bad frame from ${this.target}: ${error.message}`));
      } else {
        throw error;
      }
    }
  }

  _onFrame(frame) {
    const envelope = frame.envelope;
    switch (envelope.kind) {
      case FrameKind.RESPONSE: {
        const call = this.calls.get(envelope.callId);
        if (call !== undefined) call.onResponse(frame);  // else: cancelled or timed out already
        break;
      }
      case FrameKind.STREAM_MESSAGE: {
        const call = this.calls.get(envelope.callId);
        // Not an open stream: ignored (§11 races). Servers never half-close.
        if (call !== undefined && !(envelope.flags & FrameFlag.END_OF_STREAM)) call.onStreamMessage(frame);
        break;
      }
      case FrameKind.WINDOW_UPDATE: {
        const call = this.calls.get(envelope.callId);
        if (call !== undefined) call.onWindowUpdate(envelope.windowUpdate);
        break;
      }
      case FrameKind.GOAWAY: {
        this.goaway = true;
        if (this.channel._current === this) this.channel._current = null;
        const error = new RpcError(StatusCode.UNAVAILABLE, 'server is shutting down; the call was not processed');
        error.unsent = true;  // it reached no handler: a balanced channel sends it elsewhere
        for (const call of [...this.calls.values()]) {
          if (call.id > envelope.lastCallId) call.fail(error);
        }
        break;
      }
      case FrameKind.PING:
        // §9.1: answered at once, also with no call open (servers probe quiet connections); an
        // ACK is never answered. pingData is a BigInt, echoed exactly.
        if (!(envelope.flags & FrameFlag.ACK)) {
          this.write(null, encodeFrameParts({ kind: FrameKind.PING, flags: FrameFlag.ACK, pingData: envelope.pingData },
            EMPTY, EMPTY, this.limits));
        }
        break;
      case FrameKind.CONNECTION_ERROR: {
        let code = codeFromWire(envelope.statusCode);
        if (code === StatusCode.OK) code = StatusCode.UNKNOWN;
        this._fail(new RpcError(code, `server closed the connection: ${envelope.statusMessage}`));
        break;
      }
      default:  // REQUEST, CANCEL, kinds of later versions: ignored (§14)
    }
  }

  // The connection is unusable: every call on it fails with `error`, and the socket is closed.
  _fail(error) {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this._connectTimer);
    if (this.channel._current === this) this.channel._current = null;
    this.channel._connections.delete(this);
    // A call none of whose frames reached the socket never left the client: its error says so
    // (unsent), so that a channel over several servers may send it to another (balanced.js).
    const failWith = (call) => {
      if (call.requestStarted) return call.fail(error);
      const unsent = new RpcError(error.code, error.message);
      unsent.unsent = true;
      return call.fail(unsent);
    };
    for (const [call] of this.pending) if (call !== null) failWith(call);
    this.pending = [];
    for (const call of [...this.calls.values()]) failWith(call);
    this.calls.clear();
    this.socket.destroy();
  }

  close(error) {
    this._fail(error);
    return this.closedPromise;
  }
}

// -----------------------------------------------------------------------------------------------
// The channel.

/**
 * A client channel to one target ("host:port", "[v6]:port" or "unix:/path"). It opens one
 * connection with the first call and multiplexes every call over it; after the connection is lost
 * or the server sends GOAWAY, the next call opens a new one. Calls are never retried.
 *
 * Options: limits (FrameLimits or its fields), connectTimeout (ms, default 5000; under TLS it
 * covers the handshake), tls (true, or TLS options: see lib/tls.js and index.d.ts).
 */
class Channel {
  constructor(target, options = {}) {
    this.address = parseAddress(target);
    this.target = target;
    const limits = options.limits ?? DEFAULT_LIMITS;
    this.limits = limits instanceof FrameLimits ? limits : new FrameLimits(limits);
    this.connectTimeout = options.connectTimeout ?? 5000;
    if (!(this.connectTimeout > 0)) throw new RangeError('connectTimeout must be > 0 ms');
    this._tls = options.tls ? tlsConnector(options.tls, target) : null;
    if (this._tls !== null) this._tls(this.address);  // a Unix target without serverName: now
    this._nextId = 1;
    this._current = null;
    this._connections = new Set();
    this._closed = false;
    this._methods = new Map();  // path -> method descriptor, for calls by path
  }

  _connection() {
    let conn = this._current;
    if (conn === null || !conn.usable) {
      conn = new Connection(this);
      this._current = conn;
      this._connections.add(conn);
    }
    return conn;
  }

  _method(method, kind) {
    if (typeof method !== 'string') return method;
    const key = `${kind}:${method}`;
    let descriptor = this._methods.get(key);
    if (descriptor === undefined) {
      descriptor = normalizeMethod({ path: method, kind });
      this._methods.set(key, descriptor);
    }
    return descriptor;
  }

  // Builds and writes the REQUEST of `call`, and then the frames following(callId) returns. Throws
  // what the encoder throws (then nothing was sent).
  _start(call, message, attachment, windowUpdate, following = null) {
    const options = call.options;
    const metadata = normalizeMetadata(options.metadata);
    call.id = this._nextId++;
    const conn = this._connection();
    const parts = encodeFrameParts({
      kind: FrameKind.REQUEST,
      callId: call.id,
      method: call.method.pathBytes,
      timeoutUs: timeoutUs(call.deadline),
      metadata,
      windowUpdate,
    }, message, attachment, this.limits);
    const more = following === null ? null : following(call.id);
    conn.register(call);
    conn.write(call, parts);
    if (more !== null) for (const frame of more) conn.write(call, frame);
    return conn;
  }

  /**
   * A unary call. `method` is a method descriptor (from generated stubs) or a path
   * "/package.Service/Method" (then `request` is the serialized request and the response is a
   * Buffer). Returns a UnaryCall: a promise of the response message, rejected with an RpcError.
   *
   * Options: timeout (ms) or deadline (Date or epoch ms), metadata, attachment (Buffer), signal
   * (AbortSignal).
   */
  unaryCall(method, request, options = {}) {
    method = this._method(method, MethodKind.UNARY);
    let state;
    const call = new UnaryCall((resolve, reject) => {
      state = new UnaryState(this, method, options, resolve, reject);
    });
    call._state = state;
    let error;
    try {
      const message = serialize(method.requestType, request);
      const attachment = asAttachment(options.attachment);
      error = state._prepare();
      if (error === null) this._start(state, message, attachment, 0);
    } catch (thrown) {
      error = thrown;
    }
    if (error !== null && error !== undefined) {
      state._finish(error);
      state.reject(error);
    }
    return call;
  }

  /**
   * A server-streaming call: `request` goes out with the REQUEST and the half-close. Returns a
   * StreamCall to read the replies from (read(), for await, readable()). Options as unaryCall,
   * plus window (the initial receive window in bytes, default 1 MiB).
   */
  serverStreamingCall(method, request, options = {}) {
    return require('./stream').startStream(this, this._method(method, MethodKind.SERVER_STREAMING),
      request, undefined, options);
  }

  /**
   * A client-streaming call: write() requests (or pass an iterable / async iterable of them as
   * `input`), end(), and await finished (or finish()) for the reply.
   */
  clientStreamingCall(method, input, options) {
    return this._streamWithInput(MethodKind.CLIENT_STREAMING, method, input, options);
  }

  /** A bidirectional call: write()/end() (or `input`) and read() / for await at once. */
  bidiStreamingCall(method, input, options) {
    return this._streamWithInput(MethodKind.BIDI_STREAMING, method, input, options);
  }

  _streamWithInput(kind, method, input, options) {
    const stream = require('./stream');
    if (options === undefined && !stream.isIterable(input)) {
      options = input;
      input = undefined;
    }
    return stream.startStream(this, this._method(method, kind), undefined, input, options ?? {});
  }

  /** Fails every call with CANCELLED "channel closed" and closes the connections. */
  close() {
    this._closed = true;
    const error = new RpcError(StatusCode.CANCELLED, 'channel closed');
    const closing = [...this._connections].map((conn) => conn.close(error));
    this._current = null;
    return Promise.all(closing).then(() => undefined);
  }
}

module.exports = {
  Channel,
  Connection,
  CallBase,
  UnaryCall,
  INITIAL_WINDOW,
  MAX_WINDOW,
  normalizeMetadata,
  asAttachment,
  checkWindow,
  timeoutUs,
};
