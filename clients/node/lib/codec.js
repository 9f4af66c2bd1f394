'use strict';
// The framerpc frame codec (docs/protocol.md §3, §6, §8.1): pure functions over Buffers, no
// sockets.
//
//   frame   = header(16) envelope payload
//   header  = "FRPC" version(1) reserved(3 zero bytes) body_length(u32 BE) envelope_length(u32 BE)
//   payload = message bytes, then envelope.attachment_size attachment bytes
//
// Every length is checked from the header before any of the body is buffered or allocated, and a
// wrong magic byte as soon as it arrives. Errors are FrameErrors with exactly the code and message
// of the C++ codec (transport/frame_codec.cc); tests/vectors holds the cases all codecs agree on.

const { StatusCode, FrameError } = require('./status');
const { Envelope, EnvelopeWriter, decodeEnvelope } = require('./envelope');

const MAGIC = Buffer.from('FRPC', 'latin1');
const VERSION = 1;
const HEADER_SIZE = 16;
const MAX_UINT32 = 0xffffffff;
const EMPTY = Buffer.alloc(0);

/** Decoder and encoder limits (§6). A body or metadata exactly at its limit is accepted. */
class FrameLimits {
  constructor({ maxBodyBytes = 64 << 20, maxEnvelopeBytes = 64 << 10, maxMetadataBytes = 16 << 10 } = {}) {
    for (const [name, value] of [['maxBodyBytes', maxBodyBytes], ['maxEnvelopeBytes', maxEnvelopeBytes],
      ['maxMetadataBytes', maxMetadataBytes]]) {
      if (!Number.isInteger(value) || value < 0 || value > MAX_UINT32) {
        throw new RangeError(`${name} must be an integer in [0, 2^32 - 1], not ${value}`);
      }
    }
    this.maxBodyBytes = maxBodyBytes;
    this.maxEnvelopeBytes = maxEnvelopeBytes;
    this.maxMetadataBytes = maxMetadataBytes;
    Object.freeze(this);
  }
}

const DEFAULT_LIMITS = new FrameLimits();

/**
 * One decoded frame. `payload` is the message bytes followed by the attachment bytes; `bodySize`
 * is the header's body length (what the frame costs in flow-control credit, §11.2).
 */
class Frame {
  constructor(envelope, payload, bodySize) {
    this.envelope = envelope;
    this.payload = payload;
    this.bodySize = bodySize;
  }

  get message() {
    return this.payload.subarray(0, this.payload.length - this.envelope.attachmentSize);
  }

  get attachment() {
    return this.payload.subarray(this.payload.length - this.envelope.attachmentSize);
  }
}

function isHexDigit(c) {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

const NAMED_ESCAPES = { 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t', 0x22: '\\"', 0x27: "\\'", 0x5c: '\\\\' };

/**
 * C-escapes bytes as absl::CHexEscape does: \n \r \t \" \' \\ by name, other bytes outside
 * 0x20..0x7e as \xNN, and a hex digit right after a \xNN escape as \xNN too.
 */
function cHexEscape(bytes) {
  let out = '';
  let lastHex = false;
  for (const c of bytes) {
    const named = NAMED_ESCAPES[c];
    if (named !== undefined) {
      out += named;
      lastHex = false;
    } else if (c < 0x20 || c > 0x7e || (lastHex && isHexDigit(c))) {
      out += '\\x' + c.toString(16).padStart(2, '0');
      lastHex = true;
    } else {
      out += String.fromCharCode(c);
      lastHex = false;
    }
  }
  return out;
}

function metadataBytes(envelope) {
  let n = 0;
  for (const entry of envelope.metadata) n += entry.key.length + entry.value.length;
  return n;
}

/**
 * Checks the header at the front of `data` (which may be shorter than a header). Returns
 * {body, envelope} (the two lengths) once the 16 header bytes are there, null while they are a
 * valid prefix; throws FrameError as soon as the bytes seen prove the stream bad.
 */
function checkHeader(data, limits = DEFAULT_LIMITS) {
  const seen = Math.min(data.length, 4);
  for (let i = 0; i < seen; i++) {
    if (data[i] !== MAGIC[i]) {
      throw new FrameError(StatusCode.INVALID_ARGUMENT,
        `bad magic: not a framerpc stream (first bytes ${cHexEscape(data.subarray(0, seen))})`);
    }
  }
  if (data.length > 4 && data[4] !== VERSION) {
    throw new FrameError(StatusCode.UNIMPLEMENTED,
      `unsupported protocol version ${data[4]} (supported: ${VERSION})`);
  }
  for (let i = 5; i < Math.min(data.length, 8); i++) {
    if (data[i] !== 0) {
      throw new FrameError(StatusCode.INVALID_ARGUMENT, `reserved header byte ${i} is not zero`);
    }
  }
  if (data.length < HEADER_SIZE) return null;
  const body = data.readUInt32BE(8);
  const envelope = data.readUInt32BE(12);
  if (body > limits.maxBodyBytes) {
    throw new FrameError(StatusCode.RESOURCE_EXHAUSTED,
      `frame body of ${body} bytes exceeds the limit of ${limits.maxBodyBytes}`);
  }
  if (envelope === 0) throw new FrameError(StatusCode.INVALID_ARGUMENT, 'envelope length is 0');
  if (envelope > body) {
    throw new FrameError(StatusCode.INVALID_ARGUMENT,
      `envelope length ${envelope} exceeds body length ${body}`);
  }
  if (envelope > limits.maxEnvelopeBytes) {
    throw new FrameError(StatusCode.RESOURCE_EXHAUSTED,
      `envelope of ${envelope} bytes exceeds the limit of ${limits.maxEnvelopeBytes}`);
  }
  return { body, envelope };
}

function checkEnvelope(envelope, metadata, payloadBytes, limits) {
  if (metadata > limits.maxMetadataBytes) {
    throw new FrameError(StatusCode.RESOURCE_EXHAUSTED,
      `metadata of ${metadata} bytes exceeds the limit of ${limits.maxMetadataBytes}`);
  }
  if (envelope.attachmentSize > payloadBytes) {
    throw new FrameError(StatusCode.INVALID_ARGUMENT,
      `attachment size ${envelope.attachmentSize} exceeds payload size ${payloadBytes}`);
  }
}

// The frame whose body (envelope then payload, `body.length` bytes) is `body`.
function decodeBody(body, envelopeLength, limits) {
  const envelope = decodeEnvelope(body, 0, envelopeLength);
  if (envelope === null) {
    throw new FrameError(StatusCode.INVALID_ARGUMENT, 'envelope is not a valid framerpc.Envelope');
  }
  const payloadBytes = body.length - envelopeLength;
  checkEnvelope(envelope, envelope.metadata.length ? metadataBytes(envelope) : 0, payloadBytes, limits);
  return new Frame(envelope, body.subarray(envelopeLength), body.length);
}

/**
 * Decodes the first frame of `data` (possibly partial, or holding several frames). Returns
 * {frame, consumed}, or null while `data` is a valid prefix; throws FrameError. The frame's
 * buffers are views into `data`.
 */
function decodeFrame(data, limits = DEFAULT_LIMITS) {
  const lengths = checkHeader(data, limits);
  if (lengths === null || data.length - HEADER_SIZE < lengths.body) return null;
  const body = data.subarray(HEADER_SIZE, HEADER_SIZE + lengths.body);
  return { frame: decodeBody(body, lengths.envelope, limits), consumed: HEADER_SIZE + lengths.body };
}

/**
 * Incremental decoder for a byte stream: push() what arrives, then take frames with next().
 *
 * Holds the chunks it was given and copies a frame only when it spans chunks (into a buffer whose
 * size the header has already checked against the limits). Once it has thrown a FrameError it
 * throws the same error for ever.
 */
class FrameDecoder {
  constructor(limits = DEFAULT_LIMITS) {
    this.limits = limits;
    this._chunks = [];
    this._offset = 0;  // consumed bytes of _chunks[0]
    this._buffered = 0;
    this._lengths = null;  // the checked lengths of the frame at the front
    this._error = null;
  }

  /** Bytes received and not yet returned as frames. */
  get buffered() {
    return this._buffered;
  }

  /** Appends bytes; throws FrameError at once if the front frame's header is bad. */
  push(chunk) {
    if (this._error !== null) throw this._error;
    if (chunk.length === 0) return;
    this._chunks.push(chunk);
    this._buffered += chunk.length;
    if (this._lengths === null) this._check();
  }

  _check() {
    try {
      this._lengths = checkHeader(this._front(Math.min(this._buffered, HEADER_SIZE)), this.limits);
    } catch (error) {
      this._error = error;
      throw error;
    }
  }

  // The first n buffered bytes, without consuming them.
  _front(n) {
    const first = this._chunks.length ? this._chunks[0] : EMPTY;
    if (first.length - this._offset >= n) return first.subarray(this._offset, this._offset + n);
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    for (let i = 0; filled < n; i++) {
      const chunk = this._chunks[i];
      const start = i === 0 ? this._offset : 0;
      const take = Math.min(chunk.length - start, n - filled);
      chunk.copy(out, filled, start, start + take);
      filled += take;
    }
    return out;
  }

  // Consumes n buffered bytes (n <= buffered).
  _skip(n) {
    this._buffered -= n;
    while (n > 0) {
      const left = this._chunks[0].length - this._offset;
      if (n < left) {
        this._offset += n;
        return;
      }
      n -= left;
      this._chunks.shift();
      this._offset = 0;
    }
  }

  /** The next complete frame, or null until more bytes are pushed. Throws FrameError. */
  next() {
    if (this._error !== null) throw this._error;
    if (this._lengths === null) {
      if (this._buffered === 0) return null;
      this._check();
      if (this._lengths === null) return null;
    }
    const { body, envelope } = this._lengths;
    if (this._buffered - HEADER_SIZE < body) return null;
    this._skip(HEADER_SIZE);
    const bytes = this._front(body);
    this._skip(body);
    this._lengths = null;
    try {
      return decodeBody(bytes, envelope, this.limits);
    } catch (error) {
      this._error = error;
      throw error;
    }
  }

  * [Symbol.iterator]() {
    for (let frame = this.next(); frame !== null; frame = this.next()) yield frame;
  }
}

function asBuffer(bytes, what) {
  if (Buffer.isBuffer(bytes)) return bytes;
  if (bytes instanceof Uint8Array) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes === undefined || bytes === null) return EMPTY;
  throw new TypeError(`${what} must be a Buffer or Uint8Array, not ${typeof bytes}`);
}

/**
 * One frame in two parts: [header + envelope + message, attachment], so that a large attachment
 * is written as it is, not copied. `envelope` is an Envelope or a plain object with its fields
 * (`attachmentSize` is set here from the attachment); `message` is the serialized message.
 * Throws FrameError: RESOURCE_EXHAUSTED for a frame over `limits`, INVALID_ARGUMENT for an
 * envelope that serializes to 0 bytes.
 */
function encodeFrameParts(envelope, message = EMPTY, attachment = EMPTY, limits = DEFAULT_LIMITS) {
  message = asBuffer(message, 'message');
  attachment = asBuffer(attachment, 'attachment');
  const writer = envelope instanceof EnvelopeWriter ? envelope : new EnvelopeWriter(envelope);
  const oversized = attachment.length > MAX_UINT32;  // attachment_size cannot say it
  writer.attachmentSize = oversized ? 0 : attachment.length;
  writer.size = writer._size();
  if (writer.size === 0) {
    throw new FrameError(StatusCode.INVALID_ARGUMENT, 'envelope is empty (set its kind)');
  }
  const body = writer.size + message.length + attachment.length;
  if (oversized || body > limits.maxBodyBytes) {
    throw new FrameError(StatusCode.RESOURCE_EXHAUSTED,
      `frame body of ${body} bytes exceeds the limit of ${limits.maxBodyBytes}`);
  }
  if (writer.size > limits.maxEnvelopeBytes) {
    throw new FrameError(StatusCode.RESOURCE_EXHAUSTED,
      `envelope of ${writer.size} bytes exceeds the limit of ${limits.maxEnvelopeBytes}`);
  }
  checkEnvelope(writer, writer.metadataBytes, message.length + attachment.length, limits);
  const head = Buffer.allocUnsafe(HEADER_SIZE + writer.size + message.length);
  MAGIC.copy(head, 0);
  head[4] = VERSION;
  head[5] = 0;
  head[6] = 0;
  head[7] = 0;
  head.writeUInt32BE(body, 8);
  head.writeUInt32BE(writer.size, 12);
  const end = writer.write(head, HEADER_SIZE);
  message.copy(head, end);
  return [head, attachment];
}

/** As encodeFrameParts, in one Buffer. */
function encodeFrame(envelope, message, attachment, limits) {
  const [head, tail] = encodeFrameParts(envelope, message, attachment, limits);
  return tail.length ? Buffer.concat([head, tail]) : head;
}

module.exports = {
  MAGIC,
  VERSION,
  HEADER_SIZE,
  FrameLimits,
  DEFAULT_LIMITS,
  Frame,
  Envelope,
  cHexEscape,
  checkHeader,
  decodeFrame,
  FrameDecoder,
  encodeFrame,
  encodeFrameParts,
};
