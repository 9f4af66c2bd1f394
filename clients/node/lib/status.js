'use strict';
// Canonical status codes (docs/protocol.md §10) and the Error that carries them.

const StatusCode = Object.freeze({
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
});

const NAMES = Object.keys(StatusCode);

/** The name of a canonical code ("UNKNOWN" for anything outside 0..16). */
function statusName(code) {
  return Number.isInteger(code) && code >= 0 && code < NAMES.length ? NAMES[code] : 'UNKNOWN';
}

/** A status_code from the wire: a value outside 0..16 reads as UNKNOWN (§8.3). */
function codeFromWire(value) {
  return Number.isInteger(value) && value >= 0 && value <= 16 ? value : StatusCode.UNKNOWN;
}

/**
 * A call that ended with a non-OK status. `code` is the canonical code (a number, see
 * StatusCode), `codeName` its name, and `message` the exact status message.
 */
class RpcError extends Error {
  constructor(code, message) {
    super(message);
    this.code = codeFromWire(code);
    this.codeName = statusName(this.code);
  }

  get name() {
    return 'RpcError';
  }

  toString() {
    return `RpcError: ${this.codeName}: ${this.message}`;
  }
}

/** The frame codec rejected bytes or a frame: the stream is corrupt, or a limit is broken. */
class FrameError extends RpcError {
  get name() {
    return 'FrameError';
  }

  toString() {
    return `FrameError: ${this.codeName}: ${this.message}`;
  }
}

module.exports = { StatusCode, statusName, codeFromWire, RpcError, FrameError };
