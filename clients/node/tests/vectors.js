'use strict';
// The shared test vectors (tests/vectors, see its README.md) and the repository files tests use.
const fs = require('fs');
const path = require('path');
const { FrameLimits } = require('../lib/codec');
const { FrameKind } = require('../lib/envelope');

/** The workspace root: FRAMERPC_ROOT (set by run_tests.sh) or this file's repository. */
const ROOT = process.env.FRAMERPC_ROOT || path.resolve(__dirname, '..', '..', '..');
const VECTORS_DIR = path.join(ROOT, 'tests', 'vectors');

function loadManifest() {
  return JSON.parse(fs.readFileSync(path.join(VECTORS_DIR, 'manifest.json'), 'utf8'));
}

function readHex(file) {
  const text = fs.readFileSync(path.join(VECTORS_DIR, file), 'ascii').replace(/\s+/g, '');
  return Buffer.from(text, 'hex');
}

function limitsOf(vector) {
  const l = vector.limits;
  if (!l) return undefined;
  return new FrameLimits({
    maxBodyBytes: l.max_body_bytes,
    maxEnvelopeBytes: l.max_envelope_bytes,
    maxMetadataBytes: l.max_metadata_bytes,
  });
}

/** The manifest's envelope (proto JSON names, kind by name) as the codec's envelope fields. */
function envelopeOf(json) {
  return {
    kind: json.kind === undefined ? 0 : FrameKind[json.kind],
    callId: Number(json.call_id ?? 0),
    method: json.method ?? '',
    timeoutUs: Number(json.timeout_us ?? 0),
    statusCode: json.status_code ?? 0,
    statusMessage: json.status_message ?? '',
    flags: json.flags ?? 0,
    metadata: (json.metadata ?? []).map((e) => ({ key: Buffer.from(e.key ?? ''), value: Buffer.from(e.value ?? '') })),
    attachmentSize: json.attachment_size ?? 0,
    windowUpdate: json.window_update ?? 0,
    lastCallId: Number(json.last_call_id ?? 0),
    pingData: BigInt(json.ping_data ?? 0),  // a decimal string: all 64 bits matter
  };
}

module.exports = { ROOT, VECTORS_DIR, loadManifest, readHex, limitsOf, envelopeOf };
