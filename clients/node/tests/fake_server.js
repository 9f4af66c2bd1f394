'use strict';
// A small framerpc server for the client tests, written on the codec alone: it follows
// docs/protocol.md §7-§11 (unary calls, streams with flow control in both directions) as far as
// its handlers ask, records every frame it receives, and lets a test misbehave on purpose (raw
// bytes, GOAWAY, CONNECTION_ERROR, sending beyond the window, closing). Tests synchronize on
// its events (waitFor), never on time.
const net = require('net');
const path = require('path');
const fs = require('fs');

const { FrameDecoder, encodeFrame } = require('../lib/codec');
const { FrameKind, FrameFlag } = require('../lib/envelope');

const WINDOW = 1 << 20;
const EMPTY = Buffer.alloc(0);

/** One call on the server: what arrived, and how to answer. */
class ServerCall {
  constructor(conn, frame) {
    this.conn = conn;
    this.id = frame.envelope.callId;
    this.method = frame.envelope.method;
    this.request = frame;  // the REQUEST frame
    this.metadata = frame.envelope.metadata.map((e) => [e.key.toString(), e.value.toString()]);
    this.timeoutUs = frame.envelope.timeoutUs;
    this.cancelled = false;
    this.ended = false;
    this.halfClosed = false;
    // §11.2: what the client may still send us, what we may still send it.
    this.recvWindow = WINDOW;
    this.recvCredit = WINDOW;
    this.sendCredit = frame.envelope.windowUpdate || WINDOW;
    this.consumed = 0;
    this.inbox = [];  // STREAM_MESSAGE frames not yet read by the handler
    this.creditReturn = true;  // return credit as the handler reads
  }

  /** Ends the call: RESPONSE with a status (code 0 = OK with `message` and `attachment`). */
  respond({ code = 0, message = EMPTY, attachment = EMPTY, statusMessage = '' } = {}) {
    if (this.ended) return;
    this.ended = true;
    this.conn.send({ kind: FrameKind.RESPONSE, callId: this.id, statusCode: code, statusMessage },
      code === 0 ? message : EMPTY, code === 0 ? attachment : EMPTY);
    this.conn.calls.delete(this.id);
  }

  /** A STREAM_MESSAGE, waiting for credit unless `ignoreCredit`. Resolves when written. */
  async send(message, attachment = EMPTY, { ignoreCredit = false } = {}) {
    if (!ignoreCredit) await this.conn.server.waitFor(() => this.sendCredit > 0 || this.ended || this.cancelled);
    if (this.ended || this.cancelled) return false;
    const frame = encodeFrame({ kind: FrameKind.STREAM_MESSAGE, callId: this.id }, message, attachment);
    this.sendCredit -= frame.length - 16;
    this.conn.socket.write(frame);
    return true;
  }

  /** The next client message frame (null after the half-close), returning credit as §11.2 says. */
  async recv() {
    await this.conn.server.waitFor(() => this.inbox.length > 0 || this.halfClosed || this.cancelled);
    if (this.inbox.length === 0) return null;
    const frame = this.inbox.shift();
    this.consumed += frame.bodySize;
    if (this.creditReturn && this.consumed >= this.recvWindow / 2 && !this.ended) {
      this.conn.send({ kind: FrameKind.WINDOW_UPDATE, callId: this.id, windowUpdate: this.consumed });
      this.recvCredit += this.consumed;
      this.consumed = 0;
    }
    return frame;
  }

  /** Grants the client `n` more bytes of credit. */
  windowUpdate(n) {
    this.recvCredit += n;
    this.conn.send({ kind: FrameKind.WINDOW_UPDATE, callId: this.id, windowUpdate: n });
  }
}

class ServerConnection {
  constructor(server, socket) {
    this.server = server;
    this.socket = socket;
    this.decoder = new FrameDecoder();
    this.calls = new Map();
    this.closed = false;
    socket.setNoDelay(true);
    socket.on('data', (chunk) => this._onData(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      server._changed();
    });
  }

  send(envelope, message = EMPTY, attachment = EMPTY) {
    if (!this.socket.destroyed) this.socket.write(encodeFrame(envelope, message, attachment));
  }

  _onData(chunk) {
    this.decoder.push(chunk);
    for (const frame of this.decoder) this._onFrame(frame);
    this.server._changed();
  }

  _onFrame(frame) {
    const e = frame.envelope;
    this.server.frames.push({ conn: this, frame, kind: e.kind, callId: e.callId });
    switch (e.kind) {
      case FrameKind.REQUEST: {
        const call = new ServerCall(this, frame);
        this.calls.set(call.id, call);
        this.server.calls.push(call);
        const handler = this.server.handlers[e.method];
        if (handler === undefined) {
          call.respond({ code: 12, statusMessage: `unknown method '${e.method}'` });
        } else {
          Promise.resolve().then(() => handler(call)).catch((error) => {
            call.respond({ code: 13, statusMessage: `handler failed: ${error.message}` });
          });
        }
        break;
      }
      case FrameKind.STREAM_MESSAGE: {
        const call = this.calls.get(e.callId);
        if (call === undefined) break;
        if (e.flags & FrameFlag.END_OF_STREAM) {
          call.halfClosed = true;
          break;
        }
        if (call.recvCredit <= 0) {
          call.violation = 'flow control window exceeded';
          call.respond({ code: 8, statusMessage: 'flow control window exceeded' });
          break;
        }
        call.recvCredit -= frame.bodySize;
        call.inbox.push(frame);
        break;
      }
      case FrameKind.WINDOW_UPDATE: {
        const call = this.calls.get(e.callId);
        if (call !== undefined) call.sendCredit += e.windowUpdate;
        break;
      }
      case FrameKind.CANCEL: {
        const call = this.calls.get(e.callId);
        if (call !== undefined) {
          call.cancelled = true;
          this.calls.delete(e.callId);
        }
        break;
      }
      default:
    }
  }
}

class FakeServer {
  /** handlers: {"/pkg.Service/Method": async (call) => {...}} */
  constructor(handlers = {}) {
    this.handlers = handlers;
    this.frames = [];  // every frame received: {conn, frame, kind, callId}
    this.calls = [];  // every REQUEST, as a ServerCall
    this.connections = [];
    this._waiters = new Set();
    this._server = net.createServer((socket) => {
      this.connections.push(new ServerConnection(this, socket));
      this._changed();
    });
  }

  /** Listens on a Unix socket (default) or on 127.0.0.1 port 0 (tcp: true). */
  async listen({ tcp = false } = {}) {
    if (tcp) {
      await new Promise((resolve) => this._server.listen(0, '127.0.0.1', resolve));
      this.address = `127.0.0.1:${this._server.address().port}`;
    } else {
      // Unix socket paths are short (107 bytes); TMPDIR under Bazel may not be.
      this._dir = fs.mkdtempSync(path.join('/tmp', 'frpc-node-'));
      const socketPath = path.join(this._dir, 's');
      await new Promise((resolve) => this._server.listen(socketPath, resolve));
      this.address = `unix:${socketPath}`;
    }
    return this.address;
  }

  _changed() {
    for (const waiter of [...this._waiters]) {
      if (waiter.predicate()) {
        this._waiters.delete(waiter);
        waiter.resolve();
      }
    }
  }

  /** Resolves once predicate() holds (checked now and after every event of the server). */
  waitFor(predicate) {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve) => this._waiters.add({ predicate, resolve }));
  }

  /** Resolves with the n-th (1-based) REQUEST's call once it has arrived. */
  async call(n = 1) {
    await this.waitFor(() => this.calls.length >= n);
    return this.calls[n - 1];
  }

  /** Waits for a frame of `kind` (and call id) to have arrived; resolves with it. */
  async frame(kind, callId) {
    const match = (f) => f.kind === kind && (callId === undefined || f.callId === callId);
    await this.waitFor(() => this.frames.some(match));
    return this.frames.find(match);
  }

  kinds() {
    return this.frames.map((f) => f.kind);
  }

  async close() {
    for (const conn of this.connections) conn.socket.destroy();
    await new Promise((resolve) => this._server.close(resolve));
    if (this._dir) fs.rmSync(this._dir, { recursive: true, force: true });
  }
}

module.exports = { FakeServer, ServerCall, WINDOW };
