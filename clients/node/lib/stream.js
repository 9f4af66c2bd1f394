'use strict';
// Streaming calls (docs/protocol.md §11): server-streaming, client-streaming and bidirectional,
// with per-stream credit flow control in frame body bytes (§11.2).
//
// Sending: a write waits until the server has granted credit (the call's send credit is above
// zero), then the frame goes to the socket and its body size is charged; writes go out in order,
// and the half-close after the last of them. Receiving: the server may send while the credit this
// client granted is above zero; the credit of a message is returned (WINDOW_UPDATE) as the
// application reads it, in batches of at least half the window, so a reader that stops reading
// stops the server within one window and at most a window (plus one frame) is buffered here.
const { Readable, Writable, Duplex } = require('stream');

const { encodeFrameParts, HEADER_SIZE } = require('./codec');
const { FrameKind, FrameFlag } = require('./envelope');
const { StatusCode, RpcError, codeFromWire } = require('./status');
const { serialize, deserialize, MethodKind } = require('./message');
const { CallBase, INITIAL_WINDOW, MAX_WINDOW, asAttachment, checkWindow } = require('./channel');

const EMPTY = Buffer.alloc(0);
const noop = () => {};

/** A message with an attachment, as an item of a request stream (see withAttachment()). */
class WithAttachment {
  constructor(message, attachment) {
    this.message = message;
    this.attachment = attachment;
  }
}

/** Wraps a message and its raw attachment for a request iterable or a writable(). */
function withAttachment(message, attachment) {
  return new WithAttachment(message, attachment);
}

function frameCost(parts) {
  return parts[0].length - HEADER_SIZE + parts[1].length;
}

/**
 * A streaming call. Which operations make sense depends on the method's kind: write() and end()
 * for client-streaming and bidirectional calls, read() and iteration for server-streaming and
 * bidirectional ones. One reader and any number of writers may use a stream at once.
 */
class StreamCall extends CallBase {
  constructor(channel, method, options) {
    super(channel, method, options);
    this.kind = method.kind;
    this.sendCredit = INITIAL_WINDOW;
    this.recvWindow = checkWindow(options.window);
    this.recvCredit = this.recvWindow;
    this.returnable = 0;  // consumed bytes whose credit has not been returned yet
    this.halfClosed = false;  // the half-close has gone to the connection
    this.response = undefined;  // the client-streaming reply
    this.responseAttachment = EMPTY;
    this._inbox = [];  // [{message, attachment, cost}] from the server
    this._inboxHead = 0;
    this._reader = null;  // {resolve, reject, full}: a read() waiting for a message
    this._writes = [];  // [{parts, cost, resolve}] waiting for credit
    this._ending = false;  // end() was called: no more writes, half-close after the queued ones
    this._discard = false;  // finish(): messages are dropped on arrival, their credit returned
    this._finished = new Promise((resolve, reject) => {
      this._resolveFinished = resolve;
      this._rejectFinished = reject;
    });
    this._finished.catch(noop);  // observed through finished, read() or iteration
  }

  /** The call id (0 if the call failed before it started). */
  get callId() {
    return this.id;
  }

  /**
   * Settles when the call ends: with the reply for client-streaming calls (undefined for the
   * others), or rejected with the call's RpcError.
   */
  get finished() {
    return this._finished;
  }

  // -- writing --------------------------------------------------------------------------------

  /**
   * Sends a message (a message of the request type, or a plain object with its fields) with an
   * optional attachment. Resolves true once the frame is handed to the connection, which waits
   * for flow-control credit; false if the call has ended or end() was called. Rejects with a
   * TypeError or RpcError (RESOURCE_EXHAUSTED for a frame over the limits) if the message cannot
   * be sent; the call goes on.
   */
  write(message, attachment) {
    if (this.done || this._ending) return Promise.resolve(false);
    let parts;
    try {
      parts = encodeFrameParts({ kind: FrameKind.STREAM_MESSAGE, callId: this.id },
        serialize(this.method.requestType, message), asAttachment(attachment), this.channel.limits);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve) => {
      this._writes.push({ parts, cost: frameCost(parts), resolve });
      this._pump();
    });
  }

  /** Half-closes: the client sends no more (after the writes already queued). */
  end() {
    if (this._ending) return;
    this._ending = true;
    this._pump();
  }

  _pump() {
    const writes = this._writes;
    while (writes.length > 0 && this.sendCredit > 0 && !this.done) {
      const write = writes.shift();
      this.sendCredit -= write.cost;
      this.conn.write(this, write.parts);
      write.resolve(true);
    }
    if (this._ending && !this.halfClosed && writes.length === 0 && !this.done) {
      this.halfClosed = true;
      this.conn.write(this, encodeFrameParts({
        kind: FrameKind.STREAM_MESSAGE, callId: this.id, flags: FrameFlag.END_OF_STREAM,
      }, EMPTY, EMPTY, this.channel.limits));
    }
  }

  // -- reading --------------------------------------------------------------------------------

  /** The next message, or null once the call has ended OK; rejects with the call's RpcError. */
  read() {
    return this._read(false);
  }

  /** As read(), as {message, attachment}. */
  readWithAttachment() {
    return this._read(true);
  }

  _read(full) {
    if (this._reader !== null) return Promise.reject(new Error('another read() is still waiting'));
    if (this._inboxHead < this._inbox.length) return Promise.resolve(this._take(full));
    if (this.done) return this.error === null ? Promise.resolve(null) : Promise.reject(this.error);
    return new Promise((resolve, reject) => {
      this._reader = { resolve, reject, full };
    });
  }

  _take(full) {
    const item = this._inbox[this._inboxHead];
    this._inbox[this._inboxHead++] = undefined;
    if (this._inboxHead === this._inbox.length) {
      this._inbox = [];
      this._inboxHead = 0;
    }
    this._consumed(item.cost);
    return full ? { message: item.message, attachment: item.attachment } : item.message;
  }

  // The application took a message of `cost` bytes: return credit once half the window is due.
  _consumed(cost) {
    this.returnable += cost;
    if (this.done || this.returnable < Math.max(1, Math.floor(this.recvWindow / 2))) return;
    const amount = this.returnable;
    this.returnable = 0;
    this.recvCredit += amount;
    this.conn.write(this, encodeFrameParts({
      kind: FrameKind.WINDOW_UPDATE, callId: this.id, windowUpdate: amount,
    }, EMPTY, EMPTY, this.channel.limits));
  }

  /** Iterates over the messages; throws the call's RpcError at the end if it failed. Leaving the
   * loop early (break, return, throw) cancels a call that has not ended. */
  [Symbol.asyncIterator]() {
    const call = this;
    return {
      async next() {
        const message = await call.read();
        return message === null ? { done: true, value: undefined } : { done: false, value: message };
      },
      async return(value) {
        if (!call.done) call.cancel();
        return { done: true, value };
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  /**
   * Ends the call from this side's point of view and waits for its status: half-closes if need be,
   * drops unread and later messages (returning their credit), and resolves with the
   * client-streaming reply (undefined for the others); rejects with the call's RpcError.
   */
  finish() {
    this.end();
    if (!this.done) {
      this._discard = true;
      while (this._inboxHead < this._inbox.length) this._take(false);
    }
    return this._finished;
  }

  // -- Node streams ---------------------------------------------------------------------------

  /** The messages as an object-mode Readable; destroying it cancels an unfinished call. */
  readable() {
    const call = this;
    const stream = new Readable({
      objectMode: true,
      highWaterMark: 1,
      read() {
        call.read().then((message) => stream.push(message), (error) => stream.destroy(error));
      },
      destroy(error, callback) {
        if (!call.done) call.cancel();
        callback(error);
      },
    });
    return stream;
  }

  /**
   * An object-mode Writable of messages (or withAttachment() items) that waits for credit; ending
   * it half-closes the call, destroying it with an error cancels the call.
   */
  writable() {
    const call = this;
    return new Writable({
      objectMode: true,
      highWaterMark: 1,
      write(item, _encoding, callback) {
        const sent = item instanceof WithAttachment ? call.write(item.message, item.attachment) : call.write(item);
        sent.then((ok) => callback(ok ? null : call.error ?? new RpcError(StatusCode.FAILED_PRECONDITION,
          'the call has ended')), callback);
      },
      final(callback) {
        call.end();
        callback();
      },
      destroy(error, callback) {
        if (error && !call.done) call.cancel();
        callback(error);
      },
    });
  }

  /** A Duplex of writable() and readable() (bidirectional calls). */
  duplex() {
    return Duplex.from({ readable: this.readable(), writable: this.writable() });
  }

  // -- the connection's events -----------------------------------------------------------------

  _end(error) {
    if (!this._finish(error)) return false;
    const writes = this._writes;
    this._writes = [];
    for (const write of writes) write.resolve(false);
    const reader = this._reader;
    if (error !== null) {
      this._inbox = [];  // §11: buffered messages are dropped when a call fails
      this._inboxHead = 0;
      this._rejectFinished(error);
      if (reader !== null) {
        this._reader = null;
        reader.reject(error);
      }
    } else {
      this._resolveFinished(this.response);
      if (reader !== null) {
        this._reader = null;
        reader.resolve(null);
      }
    }
    return true;
  }

  // §11.1: a server that breaks the protocol gets CANCEL; the call fails with INTERNAL.
  _violation(message) {
    this.abort(new RpcError(StatusCode.INTERNAL, message));
  }

  onResponse(frame) {
    const envelope = frame.envelope;
    if (envelope.statusCode !== 0) {
      this._end(new RpcError(codeFromWire(envelope.statusCode), envelope.statusMessage));
      return;
    }
    if (this.kind === MethodKind.CLIENT_STREAMING) {
      try {
        this.response = deserialize(this.method.responseType, frame.message);
      } catch (_) {
        this._end(new RpcError(StatusCode.INTERNAL, 'response message does not parse'));
        return;
      }
      this.responseAttachment = frame.attachment;
    }
    this._end(null);
  }

  onStreamMessage(frame) {
    if (this.kind !== MethodKind.SERVER_STREAMING && this.kind !== MethodKind.BIDI_STREAMING) return;
    if (this.recvCredit <= 0) {
      this._violation('flow control window exceeded by the server');
      return;
    }
    const cost = frame.bodySize;
    this.recvCredit -= cost;
    let message;
    try {
      message = deserialize(this.method.responseType, frame.message);
    } catch (_) {
      this._violation('response message does not parse');
      return;
    }
    if (this._discard) {
      this._consumed(cost);
      return;
    }
    this._inbox.push({ message, attachment: frame.attachment, cost });
    const reader = this._reader;
    if (reader !== null) {
      this._reader = null;
      reader.resolve(this._take(reader.full));
    }
  }

  onWindowUpdate(credit) {
    if (credit === 0 || this.sendCredit + credit > MAX_WINDOW) {
      this._violation('bad WINDOW_UPDATE from the server');
      return;
    }
    this.sendCredit += credit;
    this._pump();
  }
}

/**
 * Starts a streaming call on `channel`. For a server-streaming method `request` is the one request
 * message (sent with options.attachment and the half-close right after the REQUEST); otherwise
 * `input`, if given, is an iterable or async iterable of messages (or withAttachment() items)
 * that is written in order and then half-closed. Errors before the start end the call at once
 * (see finished).
 */
function startStream(channel, method, request, input, options) {
  const call = new StreamCall(channel, method, options);
  let error = null;
  try {
    let following = null;
    if (method.kind === MethodKind.SERVER_STREAMING) {
      const message = serialize(method.requestType, request);
      const attachment = asAttachment(options.attachment);
      following = (callId) => {
        const parts = encodeFrameParts({ kind: FrameKind.STREAM_MESSAGE, callId }, message, attachment,
          channel.limits);
        call.sendCredit -= frameCost(parts);
        call._ending = true;
        call.halfClosed = true;
        return [parts, encodeFrameParts({ kind: FrameKind.STREAM_MESSAGE, callId, flags: FrameFlag.END_OF_STREAM },
          EMPTY, EMPTY, channel.limits)];
      };
    } else if (options.attachment !== undefined) {
      throw new TypeError('a streaming call sends attachments with write(message, attachment)');
    }
    error = call._prepare();
    if (error === null) {
      channel._start(call, EMPTY, EMPTY, call.recvWindow === INITIAL_WINDOW ? 0 : call.recvWindow, following);
    }
  } catch (thrown) {
    error = thrown;
  }
  if (error !== null) {
    call._end(error);
    return call;
  }
  if (input !== undefined && input !== null) pumpInput(call, input);
  return call;
}

async function pumpInput(call, input) {
  try {
    for await (const item of input) {
      const sent = item instanceof WithAttachment ? await call.write(item.message, item.attachment)
        : await call.write(item);
      if (!sent) return;
    }
    call.end();
  } catch (error) {
    const failure = new RpcError(StatusCode.CANCELLED, `request stream failed: ${error && error.message}`);
    failure.cause = error;
    call.abort(failure);
  }
}

function isIterable(value) {
  return value !== null && typeof value === 'object' && !(value instanceof Uint8Array)
    && (typeof value[Symbol.asyncIterator] === 'function' || typeof value[Symbol.iterator] === 'function');
}

module.exports = { StreamCall, startStream, withAttachment, WithAttachment, isIterable };
