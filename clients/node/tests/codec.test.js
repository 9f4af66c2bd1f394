'use strict';
// The codec against every shared vector of tests/vectors (decoded whole, one byte at a time and in
// random chunks; re-encoded byte for byte; the encoder's refusals), and the hand-written envelope
// codec against protobufjs reading and writing transport/envelope.proto.
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const protobuf = require('protobufjs');

const codec = require('../lib/codec');
const { FrameError, StatusCode } = require('../lib/status');
const { decodeEnvelope, encodeEnvelope, FrameKind } = require('../lib/envelope');
const { ROOT, loadManifest, readHex, limitsOf, envelopeOf } = require('./vectors');

const manifest = loadManifest();
const protoRoot = protobuf.loadSync([path.join(ROOT, 'proto', 'echo.proto'),
  path.join(ROOT, 'transport', 'envelope.proto')]);

// A deterministic PRNG (mulberry32), so that every run tries the same chunkings.
function rng(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function plainEnvelope(e) {
  return {
    kind: e.kind, callId: e.callId, method: e.method, timeoutUs: e.timeoutUs,
    statusCode: e.statusCode, statusMessage: e.statusMessage, flags: e.flags,
    metadata: e.metadata.map((m) => ({ key: Buffer.from(m.key), value: Buffer.from(m.value) })),
    attachmentSize: e.attachmentSize, windowUpdate: e.windowUpdate, lastCallId: e.lastCallId,
    pingData: e.pingData,
  };
}

function expectError(vector, fn) {
  assert.throws(fn, (error) => {
    assert.ok(error instanceof FrameError, `${vector.name}: ${error}`);
    assert.equal(error.code, vector.error_code, vector.name);
    assert.equal(error.codeName, vector.error_code_name, vector.name);
    assert.equal(error.message, vector.error_message, vector.name);
    return true;
  }, vector.name);
}

// Feeds `bytes` to a FrameDecoder in the chunks `sizes` gives; returns the frames, or throws.
function decodeInChunks(bytes, limits, nextSize) {
  const decoder = new codec.FrameDecoder(limits);
  const frames = [];
  for (let at = 0; at < bytes.length;) {
    const n = Math.min(nextSize(), bytes.length - at);
    decoder.push(bytes.subarray(at, at + n));
    at += n;
    for (const frame of decoder) frames.push(frame);
  }
  return { frames, decoder };
}

for (const vector of manifest.vectors) {
  test(`vector ${vector.name}`, () => {
    const bytes = readHex(vector.file);
    const limits = limitsOf(vector);
    if (vector.outcome === 'NEED_MORE') {
      assert.equal(codec.decodeFrame(bytes, limits), null);
      const decoder = new codec.FrameDecoder(limits);
      decoder.push(bytes);
      assert.equal(decoder.next(), null);
      assert.equal(decoder.buffered, bytes.length);
      return;
    }
    if (vector.outcome === 'ERROR') {
      expectError(vector, () => codec.decodeFrame(bytes, limits));
      const decoder = new codec.FrameDecoder(limits);
      expectError(vector, () => {
        decoder.push(bytes);
        decoder.next();
      });
      expectError(vector, () => decoder.next());  // and then for ever
      expectError(vector, () => decoder.push(Buffer.from('x')));
      // Byte by byte, the error comes as soon as the bytes prove it (a bad magic shows only the
      // bytes seen so far).
      const slow = new codec.FrameDecoder(limits);
      assert.throws(() => {
        for (const byte of bytes) {
          slow.push(Buffer.from([byte]));
          slow.next();
        }
      }, { code: vector.error_code });
      return;
    }
    assert.equal(vector.outcome, 'FRAME');
    const { frame, consumed } = codec.decodeFrame(bytes, limits);
    assert.equal(consumed, vector.consumed);
    const expected = envelopeOf(vector.envelope);
    assert.deepEqual(plainEnvelope(frame.envelope), expected);
    assert.equal(frame.message.toString('hex'), vector.message_hex);
    assert.equal(frame.attachment.toString('hex'), vector.attachment_hex);
    assert.equal(frame.bodySize, consumed - codec.HEADER_SIZE);
    for (let n = 0; n < consumed; n++) {
      assert.equal(codec.decodeFrame(bytes.subarray(0, n), limits), null, `prefix of ${n} bytes`);
    }
    const whole = bytes.subarray(0, consumed);
    const random = rng(vector.name.length);
    for (const nextSize of [() => 1, () => 1 + Math.floor(random() * 7), () => 1 + Math.floor(random() * 40)]) {
      const { frames, decoder } = decodeInChunks(whole, limits, nextSize);
      assert.equal(frames.length, 1);
      assert.deepEqual(plainEnvelope(frames[0].envelope), expected);
      assert.ok(frames[0].payload.equals(frame.payload));
      assert.equal(decoder.buffered, 0);
    }
    if (vector.message_type) {  // the message is what protobufjs makes of the same bytes
      const type = protoRoot.lookupType(vector.message_type);
      const message = type.decode(frame.message);
      assert.equal(Buffer.from(type.encode(message).finish()).toString('hex'), vector.message_hex);
    }
    if (vector.reencodes) {
      const encoded = codec.encodeFrame(expected, Buffer.from(vector.message_hex, 'hex'),
        Buffer.from(vector.attachment_hex, 'hex'), limits);
      assert.equal(encoded.toString('hex'), whole.toString('hex'));
      const [head, tail] = codec.encodeFrameParts(expected, Buffer.from(vector.message_hex, 'hex'),
        Buffer.from(vector.attachment_hex, 'hex'), limits);
      assert.equal(Buffer.concat([head, tail]).toString('hex'), whole.toString('hex'));
    }
  });
}

for (const vector of manifest.encode_errors) {
  test(`encode error ${vector.name}`, () => {
    expectError(vector, () => codec.encodeFrame(envelopeOf(vector.envelope),
      Buffer.from(vector.message_hex, 'hex'), Buffer.from(vector.attachment_hex, 'hex'), limitsOf(vector)));
  });
}

test('all vectors in one stream, in random chunks', () => {
  const frames = manifest.vectors.filter((v) => v.outcome === 'FRAME' && !v.limits);
  const stream = Buffer.concat(frames.map((v) => readHex(v.file).subarray(0, v.consumed)));
  const random = rng(6);
  const { frames: decoded, decoder } = decodeInChunks(stream, undefined, () => 1 + Math.floor(random() * 100));
  assert.equal(decoded.length, frames.length);
  decoded.forEach((frame, i) => {
    assert.deepEqual(plainEnvelope(frame.envelope), envelopeOf(frames[i].envelope), frames[i].name);
  });
  assert.equal(decoder.buffered, 0);
});

test('a frame in one chunk is not copied', () => {
  const bytes = readHex('frames/unary_response_attachment.hex');
  const decoder = new codec.FrameDecoder();
  decoder.push(bytes);
  const frame = decoder.next();
  assert.equal(frame.attachment.buffer, bytes.buffer);
});

test('an oversized header is refused before its body arrives', () => {
  const header = readHex('frames/body_over_limit.hex').subarray(0, codec.HEADER_SIZE);
  const decoder = new codec.FrameDecoder();
  assert.throws(() => decoder.push(header), { code: StatusCode.RESOURCE_EXHAUSTED });
});

test('FrameLimits are checked', () => {
  assert.throws(() => new codec.FrameLimits({ maxBodyBytes: -1 }), RangeError);
  assert.throws(() => new codec.FrameLimits({ maxBodyBytes: 2 ** 32 }), RangeError);
  assert.throws(() => new codec.FrameLimits({ maxEnvelopeBytes: 1.5 }), RangeError);
  assert.deepEqual({ ...codec.DEFAULT_LIMITS },
    { maxBodyBytes: 67108864, maxEnvelopeBytes: 65536, maxMetadataBytes: 16384 });
});

test('cHexEscape matches absl::CHexEscape', () => {
  assert.equal(codec.cHexEscape(Buffer.from([0x0a, 0x00, 0x39, 0x41, 0x7f, 0x22, 0x5c, 0x27, 0x09, 0x0d])),
    '\\n\\x00\\x39\\x41\\x7f\\"\\\\\\\'\\t\\r');
  assert.equal(codec.cHexEscape(Buffer.from('FRX')), 'FRX');
});

// -----------------------------------------------------------------------------------------------
// The envelope codec against protobufjs.

const EnvelopeType = protoRoot.lookupType('framerpc.Envelope');

function randomEnvelope(random) {
  const pick = (p) => random() < p;
  const int = (n) => Math.floor(random() * n);
  const bytes = (n) => Buffer.from(Array.from({ length: int(n) }, () => int(256)));
  const big = () => [0, 1, 127, 128, 300, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1][int(10)];
  const fields = {};
  if (pick(0.9)) fields.kind = int(9);
  if (pick(0.7)) fields.callId = big();
  if (pick(0.4)) fields.method = '/pkg.S/' + 'm'.repeat(int(200));
  if (pick(0.3)) fields.timeoutUs = [1, 250000, -1, -(2 ** 40), 2 ** 53 - 1][int(5)];
  if (pick(0.3)) fields.statusCode = [1, 16, 17, -3, 2 ** 31 - 1][int(5)];
  if (pick(0.3)) fields.statusMessage = 'ünïcode '.repeat(int(30));
  if (pick(0.3)) fields.flags = [1, 2, 2 ** 32 - 1][int(3)];
  if (pick(0.3)) fields.metadata = Array.from({ length: 1 + int(4) }, () => ({ key: bytes(20), value: bytes(300) }));
  if (pick(0.3)) fields.attachmentSize = [1, 2 ** 32 - 1][int(2)];
  if (pick(0.3)) fields.windowUpdate = [1, 65536, 2 ** 31 - 1][int(3)];
  if (pick(0.3)) fields.lastCallId = big();
  if (pick(0.3)) fields.pingData = [1n, 2n ** 53n + 1n, 0xfedcba9876543210n, 2n ** 64n - 1n][int(4)];
  for (const key of Object.keys(fields)) if (fields[key] === 0) delete fields[key];
  return fields;
}

// protobufjs' view of the same fields (its int64s are Longs; its bytes are Buffers).
function toProtobufjs(fields) {
  const object = {};
  for (const [key, value] of Object.entries(fields)) {
    if (key === 'method' || key === 'statusMessage') object[key] = Buffer.from(value);
    else if (key === 'metadata') object[key] = value.map((e) => ({ key: e.key, value: e.value }));
    else if (key === 'pingData') object[key] = value.toString();  // protobufjs takes 64 bits as text
    else object[key] = value;
  }
  return object;
}

function fromProtobufjs(message) {
  const o = EnvelopeType.toObject(message, { longs: Number, defaults: true });
  const exact = EnvelopeType.toObject(message, { longs: String, defaults: true });
  return {
    kind: o.kind, callId: o.callId, method: Buffer.from(o.method).toString(), timeoutUs: o.timeoutUs,
    statusCode: o.statusCode, statusMessage: Buffer.from(o.statusMessage).toString(), flags: o.flags,
    metadata: o.metadata.map((e) => ({ key: Buffer.from(e.key || []), value: Buffer.from(e.value || []) })),
    attachmentSize: o.attachmentSize, windowUpdate: o.windowUpdate, lastCallId: o.lastCallId,
    pingData: BigInt(exact.pingData),
  };
}

test('envelopes: the same bytes as protobufjs, both ways', () => {
  const random = rng(42);
  for (let i = 0; i < 2000; i++) {
    const fields = randomEnvelope(random);
    const ours = encodeEnvelope(fields);
    const theirs = Buffer.from(EnvelopeType.encode(EnvelopeType.fromObject(toProtobufjs(fields))).finish());
    assert.equal(ours.toString('hex'), theirs.toString('hex'),
      JSON.stringify(fields, (key, value) => (typeof value === 'bigint' ? `${value}n` : value)));
    const decoded = decodeEnvelope(theirs);
    assert.deepEqual(plainEnvelope(decoded), fromProtobufjs(EnvelopeType.decode(ours)));
  }
});

test('envelopes: parsed as libprotobuf parses them', () => {
  const parse = (hex) => decodeEnvelope(Buffer.from(hex.replace(/ /g, ''), 'hex'));
  // Any field order; the last scalar wins; metadata entries accumulate.
  assert.deepEqual(plainEnvelope(parse('1005 0802 1007 4205 0a016b 1200')),
    { ...plainEnvelope(parse('0802 1007')), metadata: [{ key: Buffer.from('k'), value: Buffer.alloc(0) }] });
  // Unknown fields of every wire type are skipped, groups whole (nested ones too).
  const known = plainEnvelope(parse('0803 100c'));
  assert.deepEqual(plainEnvelope(parse('0803 a006 01 a106 0102030405060708 a206 02 abcd a506 01020304 100c')), known);
  assert.deepEqual(plainEnvelope(parse('0803 a306 0801 ab06 1001 ac06 a406 100c')), known);
  // A known field number with a wire type that does not match is an unknown field.
  assert.deepEqual(plainEnvelope(parse('0803 12 03 616263 100c')), known);
  assert.equal(parse('0803 1202 61'), null);
  // 64-bit values.
  assert.equal(parse('20 ffffffffffffffffff01').timeoutUs, -1);
  assert.equal(parse('10 ffffffffffffff0f').callId, 2 ** 53 - 1);
  assert.equal(parse('60 ffffffffffffffffff01').pingData, 2n ** 64n - 1n);  // exact, not rounded
  assert.equal(parse('60 8180808080808080 01').pingData, 2n ** 56n + 1n);
  assert.equal(parse('0808').pingData, 0n);
  assert.equal(parse('08 ffffffff0f').kind, -1);
  assert.equal(parse('48 ffffffff0f').attachmentSize, 2 ** 32 - 1);
  assert.equal(parse('48 8080808010').attachmentSize, 0);  // bits above 32 are dropped
  // Invalid: truncated fields, wire types 6 and 7, field number 0, stray or mismatched end-group,
  // varints of 11 bytes.
  for (const bad of ['08', '1a05 61', '0e', '0f', '0001', '00', 'a406', 'a306 ac0a', 'a306',
    '10 ffffffffffffffffff80 01', '09 0102', '0d 01', '42 03 0a05 61']) {
    assert.equal(parse(bad), null, bad);
  }
});

test('envelopes: encoding checks its fields', () => {
  assert.throws(() => encodeEnvelope({ kind: FrameKind.REQUEST, callId: -1 }), RangeError);
  assert.throws(() => encodeEnvelope({ kind: 1.5 }), RangeError);
  assert.throws(() => encodeEnvelope({ kind: 1, method: 42 }), TypeError);
  assert.equal(encodeEnvelope({ kind: 1, timeoutUs: -1 }).toString('hex'), '0801' + '20ffffffffffffffffff01');
  assert.equal(encodeEnvelope({ kind: 6, lastCallId: 2n ** 64n - 1n }).toString('hex'), '0806' + '58ffffffffffffffffff01');
  assert.equal(encodeEnvelope({ kind: 8, flags: 2, pingData: 2n ** 64n - 1n }).toString('hex'), '0808' + '3802' + '60ffffffffffffffffff01');
  assert.equal(encodeEnvelope({ kind: 8, pingData: 300 }).toString('hex'), '0808' + '60ac02');
  assert.throws(() => encodeEnvelope({ kind: 8, pingData: 2n ** 64n }), RangeError);
  assert.throws(() => encodeEnvelope({ kind: 8, pingData: -1 }), RangeError);
});
