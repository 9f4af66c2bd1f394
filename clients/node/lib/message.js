'use strict';
// Messages and methods: protobufjs types (or raw bytes), and what a method descriptor holds.
const protobuf = require('protobufjs/light');

const MethodKind = Object.freeze({
  UNARY: 'unary',
  SERVER_STREAMING: 'server_streaming',
  CLIENT_STREAMING: 'client_streaming',
  BIDI_STREAMING: 'bidi_streaming',
});

const KINDS = new Set(Object.values(MethodKind));

function typeName(type) {
  return type.fullName.replace(/^\./, '');
}

/**
 * A method descriptor: {name, path: "/package.Service/Method", kind (a MethodKind), requestType,
 * responseType}. The types are protobufjs Types, or null for raw bytes (Buffers in and out).
 */
function normalizeMethod({ name, path, kind, requestType = null, responseType = null }) {
  if (typeof path !== 'string' || !/^\/[^/]+\/[^/]+$/.test(path)) {
    throw new TypeError(`method path must look like "/package.Service/Method", not ${JSON.stringify(path)}`);
  }
  if (!KINDS.has(kind)) throw new TypeError(`unknown method kind ${JSON.stringify(kind)}`);
  return Object.freeze({
    name: name ?? path.slice(path.lastIndexOf('/') + 1),
    path,
    pathBytes: Buffer.from(path, 'utf8'),
    kind,
    requestType,
    responseType,
  });
}

/**
 * The request serialized: `value` is a message of `type` (an instance, or a plain object with its
 * fields, converted by type.fromObject), or bytes when `type` is null. Anything else is a
 * TypeError, thrown before anything is sent.
 */
function serialize(type, value) {
  if (type === null) {
    if (Buffer.isBuffer(value)) return value;
    if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    throw new TypeError(`a call by path takes the serialized request (a Buffer), not ${typeof value}`);
  }
  if (value instanceof type.ctor) return type.encode(value).finish();
  if (value instanceof protobuf.Message) {
    throw new TypeError(`expected a ${typeName(type)}, not a ${typeName(value.$type)}`);
  }
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array || Array.isArray(value)) {
    throw new TypeError(`expected a ${typeName(type)} or a plain object with its fields, not ${
      value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`);
  }
  return type.encode(type.fromObject(value)).finish();
}

/** The response parsed (a message of `type`), or the bytes themselves when `type` is null. */
function deserialize(type, bytes) {
  if (type === null) return bytes;
  return type.decode(bytes);
}

module.exports = { MethodKind, normalizeMethod, serialize, deserialize, typeName, protobuf };
