'use strict';
// framerpc.checksum against the shared golden vectors (tests/vectors/checksums.json, which the
// C++ library and the Python client are checked against too), whole and in uneven pieces; the
// names and proto values; the algorithm a download header announces.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { checksum } = require('../lib');
const { ROOT } = require('./vectors');

const golden = JSON.parse(fs.readFileSync(path.join(ROOT, 'tests', 'vectors', 'checksums.json'), 'utf8'));

function dataOf(vector) {
  if (vector.text !== undefined) return Buffer.from(vector.text, 'utf8');
  const data = Buffer.alloc(vector.size);
  for (let i = 0; i < data.length; i++) data[i] = i % 251;
  return data;
}

test('golden vectors, whole and in pieces', async () => {
  assert.equal(golden.format, 1);
  assert.ok(golden.vectors.length >= 20);
  for (const vector of golden.vectors) {
    const data = dataOf(vector);
    for (const [name, key] of [['xxh3', 'xxh3_128'], ['sha256', 'sha256']]) {
      const whole = await checksum.createHasher(name);
      assert.equal(whole.update(data).digest().toString('hex'), vector[key], `${vector.name} ${name}`);
      const pieces = await checksum.createHasher(name);
      for (let at = 0, step = 1; at < data.length; at += step, step = (step * 5) % 1031 + 1) {
        pieces.update(data.subarray(at, at + step));
      }
      assert.equal(pieces.digest().toString('hex'), vector[key], `${vector.name} ${name} in pieces`);
    }
  }
});

test('names, proto values and the header echo', async () => {
  assert.equal(checksum.protoValue('xxh3'), 2);
  assert.equal(checksum.protoValue('sha256'), 1);
  assert.equal(checksum.title('xxh3'), 'XXH3-128');
  assert.equal((await checksum.createHasher('xxh3')).digest().length, 16);
  await assert.rejects(checksum.createHasher('md5'), /checksum must be xxh3 or sha256, not 'md5'/);
  assert.equal(checksum.answered(2, 'xxh3'), 'xxh3');
  assert.equal(checksum.answered(undefined, 'xxh3'), 'sha256');  // a server from before the choice
  assert.throws(() => checksum.answered(1, 'xxh3'), /algorithm 1, not XXH3-128/);
  const trailer = { sha256: Buffer.from('s'), checksum: { algorithm: 2, digest: Buffer.from('x') } };
  assert.equal(checksum.trailerDigest(trailer, 2).toString(), 'x');
  assert.equal(checksum.trailerDigest(trailer, 0).toString(), 's');
});
