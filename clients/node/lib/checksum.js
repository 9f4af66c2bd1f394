'use strict';
// The file service's checksums (docs/file_service.md, "Checksums"): one chosen per transfer,
// XXH3-128 by default and SHA-256 on request.
//
//   const hasher = await framerpc.checksum.createHasher('xxh3');   // or 'sha256'
//   hasher.update(chunk); const digest = hasher.digest();          // a Buffer, 16 or 32 bytes
//
// XXH3-128 is hash-wasm's xxhash128 (WebAssembly, no native code): the canonical form the server
// sends (the high 64 bits first, big-endian), the bytes whose hex xxh128sum prints. SHA-256 is
// node's crypto. A hasher belongs to one caller at a time; each createHasher gives a new one.
const crypto = require('crypto');
const { createXXHash128 } = require('hash-wasm');

/** file.proto's ChecksumAlgorithm. */
const ChecksumAlgorithm = Object.freeze({
  CHECKSUM_UNSPECIFIED: 0,
  CHECKSUM_SHA256: 1,
  CHECKSUM_XXH3_128: 2,
});

const NAMES = Object.freeze(['xxh3', 'sha256']);
const PROTO = { xxh3: ChecksumAlgorithm.CHECKSUM_XXH3_128, sha256: ChecksumAlgorithm.CHECKSUM_SHA256 };
const TITLES = { xxh3: 'XXH3-128', sha256: 'SHA-256' };

function check(name) {
  if (!NAMES.includes(name)) throw new RangeError(`checksum must be xxh3 or sha256, not '${name}'`);
}

/** A running hash in `name`'s algorithm: update(bytes) and digest() (a Buffer, once). */
async function createHasher(name) {
  check(name);
  if (name === 'sha256') {
    const hash = crypto.createHash('sha256');
    return { update(data) { hash.update(data); return this; }, digest: () => hash.digest() };
  }
  const hash = await createXXHash128();
  hash.init();
  return {
    update(data) { hash.update(data); return this; },
    digest: () => Buffer.from(hash.digest('binary')),
  };
}

/** The ChecksumAlgorithm value that asks for `name`. */
function protoValue(name) {
  check(name);
  return PROTO[name];
}

/** 'XXH3-128' or 'SHA-256', as the server's messages name them. */
function title(name) {
  check(name);
  return TITLES[name];
}

/**
 * The algorithm of a download's trailer, from its header's echo: `asked`, or 'sha256' (in
 * trailer.sha256) from a server older than the choice, which echoes nothing.
 */
function answered(headerChecksum, asked) {
  const value = Number(headerChecksum || 0);
  if (value === ChecksumAlgorithm.CHECKSUM_UNSPECIFIED) return 'sha256';
  if (value !== protoValue(asked)) {
    throw new Error(`the server answered with checksum algorithm ${value}, not ${title(asked)}`);
  }
  return asked;
}

/** The digest (a Buffer) a download's trailer carries for its data, given the header's echo. */
function trailerDigest(trailer, headerChecksum) {
  if (Number(headerChecksum || 0) === ChecksumAlgorithm.CHECKSUM_UNSPECIFIED) {
    return Buffer.from(trailer.sha256 || []);
  }
  return Buffer.from((trailer.checksum && trailer.checksum.digest) || []);
}

module.exports = { ChecksumAlgorithm, NAMES, createHasher, protoValue, title, answered, trailerDigest };
