'use strict';
// framerpc.Envelope (transport/envelope.proto) in protobuf binary form, written by hand: it is on
// every frame, so it is kept off protobufjs' generic path. It follows libprotobuf's rules, which
// the C++ peer uses: fields in field-number order when writing, default values omitted; when
// reading, any order, the last value of a scalar wins, unknown fields (and known numbers with a
// wire type that does not match) are skipped, groups are skipped whole, and a truncated field, a
// wire type 6 or 7, field number 0, an unmatched end-group or a varint of more than 10 bytes
// makes the envelope invalid. tests/envelope_test.js checks it against protobufjs reading and
// writing the same .proto.
//
// 64-bit fields (call_id, timeout_us, last_call_id) are JS numbers: exact up to 2^53 - 1, which
// call ids never reach; larger values read from the wire are rounded. ping_data is the exception:
// it is opaque and must be echoed exactly (§9.1), so it is read as a BigInt (0n when absent); it
// may be written from a BigInt or a safe integer.

const FrameKind = Object.freeze({
  FRAME_KIND_UNSPECIFIED: 0,
  REQUEST: 1,
  RESPONSE: 2,
  CANCEL: 3,
  STREAM_MESSAGE: 4,
  WINDOW_UPDATE: 5,
  GOAWAY: 6,
  CONNECTION_ERROR: 7,
  PING: 8,
});

const FrameFlag = Object.freeze({ FRAME_FLAG_NONE: 0, END_OF_STREAM: 1, ACK: 2 });

const KIND_NAMES = Object.keys(FrameKind);

/** "REQUEST", ..., or the number as text for a kind this version does not know. */
function kindName(kind) {
  return kind >= 0 && kind < KIND_NAMES.length ? KIND_NAMES[kind] : String(kind);
}

const TWO_32 = 4294967296;
const EMPTY = Buffer.alloc(0);

/** A decoded (or to-be-encoded) envelope; every field at its proto3 default. */
class Envelope {
  constructor(fields) {
    this.kind = 0;
    this.callId = 0;
    this.method = '';
    this.timeoutUs = 0;
    this.statusCode = 0;
    this.statusMessage = '';
    this.flags = 0;
    this.metadata = [];  // [{key: Buffer, value: Buffer}] when decoded; strings allowed to encode
    this.attachmentSize = 0;
    this.windowUpdate = 0;
    this.lastCallId = 0;
    this.pingData = 0n;
    if (fields) Object.assign(this, fields);
  }
}

// ---------------------------------------------------------------------------------------------
// Reading.

class EnvelopeParseError extends Error {}
const INVALID = new EnvelopeParseError('invalid envelope');

// The reader's state: one envelope is read at a time, synchronously.
let buf = EMPTY;
let pos = 0;
let lo = 0;  // the last varint: low and high 32 bits, unsigned
let hi = 0;

function readVarint(end) {
  lo = 0;
  hi = 0;
  let b;
  for (let shift = 0; shift < 28; shift += 7) {  // bytes 1-4: bits 0..27
    if (pos >= end) throw INVALID;
    b = buf[pos++];
    lo |= (b & 0x7f) << shift;
    if (b < 0x80) {
      lo >>>= 0;
      return;
    }
  }
  if (pos >= end) throw INVALID;  // byte 5: bits 28..34
  b = buf[pos++];
  lo = (lo | ((b & 0x0f) << 28)) >>> 0;
  hi = (b & 0x7f) >>> 4;
  if (b < 0x80) return;
  for (let i = 0, shift = 3; i < 5; i++, shift += 7) {  // bytes 6-10: bits 35..63 (more: dropped)
    if (pos >= end) throw INVALID;
    b = buf[pos++];
    if (shift < 32) hi |= (b & 0x7f) << shift;
    if (b < 0x80) {
      hi >>>= 0;
      return;
    }
  }
  throw INVALID;  // an 11th byte
}

function uint64Value() {
  return hi * TWO_32 + lo;
}

function int64Value() {
  if (hi & 0x80000000) return -((~hi >>> 0) * TWO_32 + (~lo >>> 0) + 1);
  return hi * TWO_32 + lo;
}

// Reads a length-delimited field's length and returns its end.
function readLength(end) {
  readVarint(end);
  if (hi !== 0 || lo > end - pos) throw INVALID;
  return pos + lo;
}

// Skips the value of a field with wire type `wireType`; `field` matters for groups.
function skipField(wireType, field, end, depth) {
  switch (wireType) {
    case 0:
      readVarint(end);
      return;
    case 1:
      if (end - pos < 8) throw INVALID;
      pos += 8;
      return;
    case 2:
      pos = readLength(end);
      return;
    case 3: {  // a group: fields until the matching end-group tag
      if (depth >= 100) throw INVALID;
      for (;;) {
        const tag = readTag(end);
        const innerType = tag & 7;
        const innerField = tag >>> 3;
        if (innerType === 4) {
          if (innerField !== field) throw INVALID;
          return;
        }
        skipField(innerType, innerField, end, depth + 1);
      }
    }
    case 5:
      if (end - pos < 4) throw INVALID;
      pos += 4;
      return;
    default:  // 4 (an end-group without its start), 6, 7
      throw INVALID;
  }
}

function readTag(end) {
  readVarint(end);
  if (hi !== 0 || lo < 8) throw INVALID;  // tags fit in 32 bits; field number 0 is invalid
  return lo;
}

function readMetadataEntry(end) {
  let key = EMPTY;
  let value = EMPTY;
  while (pos < end) {
    const tag = readTag(end);
    if (tag === 0x0a) {
      const stop = readLength(end);
      key = buf.subarray(pos, stop);
      pos = stop;
    } else if (tag === 0x12) {
      const stop = readLength(end);
      value = buf.subarray(pos, stop);
      pos = stop;
    } else {
      skipField(tag & 7, tag >>> 3, end, 0);
    }
  }
  return { key, value };
}

function readEnvelope(end) {
  const e = new Envelope();
  while (pos < end) {
    const tag = readTag(end);
    switch (tag) {
      case 0x08:  // 1 kind, varint (int32)
        readVarint(end);
        e.kind = lo | 0;
        break;
      case 0x10:  // 2 call_id, varint (uint64)
        readVarint(end);
        e.callId = uint64Value();
        break;
      case 0x1a: {  // 3 method, bytes
        const stop = readLength(end);
        e.method = buf.toString('utf8', pos, stop);
        pos = stop;
        break;
      }
      case 0x20:  // 4 timeout_us, varint (int64)
        readVarint(end);
        e.timeoutUs = int64Value();
        break;
      case 0x28:  // 5 status_code, varint (int32)
        readVarint(end);
        e.statusCode = lo | 0;
        break;
      case 0x32: {  // 6 status_message, bytes
        const stop = readLength(end);
        e.statusMessage = buf.toString('utf8', pos, stop);
        pos = stop;
        break;
      }
      case 0x38:  // 7 flags, varint (uint32)
        readVarint(end);
        e.flags = lo;
        break;
      case 0x42: {  // 8 metadata, message
        const stop = readLength(end);
        e.metadata.push(readMetadataEntry(stop));
        break;
      }
      case 0x48:  // 9 attachment_size, varint (uint32)
        readVarint(end);
        e.attachmentSize = lo;
        break;
      case 0x50:  // 10 window_update, varint (uint32)
        readVarint(end);
        e.windowUpdate = lo;
        break;
      case 0x58:  // 11 last_call_id, varint (uint64)
        readVarint(end);
        e.lastCallId = uint64Value();
        break;
      case 0x60:  // 12 ping_data, varint (uint64), exact
        readVarint(end);
        e.pingData = (BigInt(hi) << 32n) | BigInt(lo);
        break;
      default:
        skipField(tag & 7, tag >>> 3, end, 0);
    }
  }
  return e;
}

/**
 * Parses the envelope in `data[start, end)`. Returns an Envelope, or null when the bytes are not a
 * valid framerpc.Envelope. Bytes fields of metadata are views into `data`.
 */
function decodeEnvelope(data, start = 0, end = data.length) {
  buf = data;
  pos = start;
  try {
    return readEnvelope(end);
  } catch (error) {
    if (error instanceof EnvelopeParseError) return null;
    throw error;
  } finally {
    buf = EMPTY;
  }
}

// ---------------------------------------------------------------------------------------------
// Writing.

function checkedInteger(value, name, min, max) {
  if (typeof value === 'bigint') {
    if (value < BigInt(min) || value > BigInt(max)) {
      throw new RangeError(`envelope field ${name} out of range: ${value}`);
    }
    return value;
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`envelope field ${name} must be an integer in [${min}, ${max}], not ${value}`);
  }
  return value;
}

const MAX_U64 = 18446744073709551615n;
const MIN_I64 = -9223372036854775808n;
const MAX_I64 = 9223372036854775807n;

function varintSize(v) {  // v: a number in [0, 2^53) or a BigInt in [0, 2^64)
  if (typeof v === 'number' && v < 0x80000000) {
    if (v < 0x80) return 1;
    if (v < 0x4000) return 2;
    if (v < 0x200000) return 3;
    if (v < 0x10000000) return 4;
    return 5;
  }
  let big = BigInt(v);
  let n = 1;
  while (big >= 0x80n) {
    big >>= 7n;
    n++;
  }
  return n;
}

function writeVarint(out, p, v) {  // as varintSize; returns the new position
  if (typeof v === 'number' && v < 0x80000000) {
    while (v >= 0x80) {
      out[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    out[p++] = v;
    return p;
  }
  let big = BigInt(v);
  while (big >= 0x80n) {
    out[p++] = Number(big & 0x7fn) | 0x80;
    big >>= 7n;
  }
  out[p++] = Number(big);
  return p;
}

// Signed 32- and 64-bit values are written as their 64-bit two's complement.
function signedWire(v) {
  if (typeof v === 'number' && v >= 0) return v;
  return BigInt.asUintN(64, BigInt(v));
}

function asBytes(value, name) {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (value === undefined || value === null) return EMPTY;
  throw new TypeError(`envelope field ${name} must be a string or bytes, not ${typeof value}`);
}

/**
 * A plan for writing an envelope: its checked values and its size. The metadata is normalised to
 * [{key: Buffer, value: Buffer}] (`metadataBytes` is the Σ key + value size of §6).
 */
class EnvelopeWriter {
  constructor(e) {
    this.kind = signedWire(checkedInteger(e.kind ?? 0, 'kind', -0x80000000, 0x7fffffff));
    this.callId = checkedInteger(e.callId ?? 0, 'callId', 0, Number.MAX_SAFE_INTEGER);
    this.method = asBytes(e.method, 'method');
    const timeout = e.timeoutUs ?? 0;
    this.timeoutUs = signedWire(typeof timeout === 'bigint'
      ? checkedInteger(timeout, 'timeoutUs', MIN_I64, MAX_I64)
      : checkedInteger(timeout, 'timeoutUs', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER));
    this.statusCode = signedWire(checkedInteger(e.statusCode ?? 0, 'statusCode', -0x80000000, 0x7fffffff));
    this.statusMessage = asBytes(e.statusMessage, 'statusMessage');
    this.flags = checkedInteger(e.flags ?? 0, 'flags', 0, 0xffffffff);
    this.attachmentSize = checkedInteger(e.attachmentSize ?? 0, 'attachmentSize', 0, 0xffffffff);
    this.windowUpdate = checkedInteger(e.windowUpdate ?? 0, 'windowUpdate', 0, 0xffffffff);
    const last = e.lastCallId ?? 0;
    this.lastCallId = typeof last === 'bigint' ? checkedInteger(last, 'lastCallId', 0n, MAX_U64)
      : checkedInteger(last, 'lastCallId', 0, Number.MAX_SAFE_INTEGER);
    const ping = e.pingData ?? 0;
    this.pingData = typeof ping === 'bigint' ? checkedInteger(ping, 'pingData', 0n, MAX_U64)
      : checkedInteger(ping, 'pingData', 0, Number.MAX_SAFE_INTEGER);
    this.metadata = [];
    this.metadataBytes = 0;
    for (const entry of e.metadata ?? []) {
      const key = asBytes(entry.key, 'metadata key');
      const value = asBytes(entry.value, 'metadata value');
      this.metadata.push({ key, value });
      this.metadataBytes += key.length + value.length;
    }
    this.size = this._size();
  }

  _size() {
    let n = 0;
    if (this.kind !== 0) n += 1 + varintSize(this.kind);
    if (this.callId !== 0) n += 1 + varintSize(this.callId);
    if (this.method.length) n += 1 + varintSize(this.method.length) + this.method.length;
    if (this.timeoutUs !== 0) n += 1 + varintSize(this.timeoutUs);
    if (this.statusCode !== 0) n += 1 + varintSize(this.statusCode);
    if (this.statusMessage.length) {
      n += 1 + varintSize(this.statusMessage.length) + this.statusMessage.length;
    }
    if (this.flags !== 0) n += 1 + varintSize(this.flags);
    for (const entry of this.metadata) {
      const size = entrySize(entry);
      n += 1 + varintSize(size) + size;
    }
    if (this.attachmentSize !== 0) n += 1 + varintSize(this.attachmentSize);
    if (this.windowUpdate !== 0) n += 1 + varintSize(this.windowUpdate);
    if (this.lastCallId !== 0 && this.lastCallId !== 0n) n += 1 + varintSize(this.lastCallId);
    if (this.pingData !== 0 && this.pingData !== 0n) n += 1 + varintSize(this.pingData);
    return n;
  }

  /** Writes the envelope at out[p]; returns the position after it. */
  write(out, p) {
    if (this.kind !== 0) p = writeVarint(out, (out[p] = 0x08, p + 1), this.kind);
    if (this.callId !== 0) p = writeVarint(out, (out[p] = 0x10, p + 1), this.callId);
    if (this.method.length) p = writeBytes(out, p, 0x1a, this.method);
    if (this.timeoutUs !== 0) p = writeVarint(out, (out[p] = 0x20, p + 1), this.timeoutUs);
    if (this.statusCode !== 0) p = writeVarint(out, (out[p] = 0x28, p + 1), this.statusCode);
    if (this.statusMessage.length) p = writeBytes(out, p, 0x32, this.statusMessage);
    if (this.flags !== 0) p = writeVarint(out, (out[p] = 0x38, p + 1), this.flags);
    for (const entry of this.metadata) {
      out[p++] = 0x42;
      p = writeVarint(out, p, entrySize(entry));
      if (entry.key.length) p = writeBytes(out, p, 0x0a, entry.key);
      if (entry.value.length) p = writeBytes(out, p, 0x12, entry.value);
    }
    if (this.attachmentSize !== 0) p = writeVarint(out, (out[p] = 0x48, p + 1), this.attachmentSize);
    if (this.windowUpdate !== 0) p = writeVarint(out, (out[p] = 0x50, p + 1), this.windowUpdate);
    if (this.lastCallId !== 0 && this.lastCallId !== 0n) {
      p = writeVarint(out, (out[p] = 0x58, p + 1), this.lastCallId);
    }
    if (this.pingData !== 0 && this.pingData !== 0n) {
      p = writeVarint(out, (out[p] = 0x60, p + 1), this.pingData);
    }
    return p;
  }
}

function entrySize(entry) {
  let n = 0;
  if (entry.key.length) n += 1 + varintSize(entry.key.length) + entry.key.length;
  if (entry.value.length) n += 1 + varintSize(entry.value.length) + entry.value.length;
  return n;
}

function writeBytes(out, p, tag, bytes) {
  out[p++] = tag;
  p = writeVarint(out, p, bytes.length);
  bytes.copy(out, p);
  return p + bytes.length;
}

/** The envelope `fields` (an Envelope or a plain object with its fields) serialized. */
function encodeEnvelope(fields) {
  const writer = new EnvelopeWriter(fields);
  const out = Buffer.allocUnsafe(writer.size);
  writer.write(out, 0);
  return out;
}

module.exports = {
  FrameKind,
  FrameFlag,
  kindName,
  Envelope,
  EnvelopeWriter,
  decodeEnvelope,
  encodeEnvelope,
  varintSize,
  writeVarint,
};
