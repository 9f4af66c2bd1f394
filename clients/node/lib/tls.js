'use strict';
// TLS for the Node client (docs/security.md): the options a Channel takes under `tls`, turned into
// tls.connect() options, and the words a refused handshake is reported with, as the C++ and
// Python clients report it ("TLS handshake with <target> failed: <cause> (unknown CA)").
const fs = require('fs');
const net = require('net');
const tls = require('tls');

const ALPN = 'framerpc/1';

// OpenSSL's verification failures (Node's error codes), named as the C++ client names them.
const VERIFY_KINDS = {
  UNABLE_TO_GET_ISSUER_CERT: 'unknown CA',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unknown CA',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unknown CA',
  SELF_SIGNED_CERT_IN_CHAIN: 'unknown CA',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'unknown CA',
  CERT_HAS_EXPIRED: 'expired certificate',
  CERT_NOT_YET_VALID: 'certificate not yet valid',
  ERR_TLS_CERT_ALTNAME_INVALID: 'name mismatch',
};

const VERSIONS = { '1.2': 'TLSv1.2', '1.3': 'TLSv1.3' };

function readPem(options, field) {
  try {
    return fs.readFileSync(options[field]);
  } catch (error) {
    throw new RangeError(`tls.${field} ${options[field]}: ${error.message}`);
  }
}

/**
 * Checks a Channel's `tls` option (true: the system's CAs) and returns a function of the parsed
 * address that gives the tls.connect() options. Throws TypeError/RangeError for a bad option or a
 * file that cannot be read, when the channel is made.
 */
function tlsConnector(option, target) {
  const options = option === true ? {} : option;
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('tls must be true or an object of TLS options');
  }
  const known = ['caFile', 'certFile', 'keyFile', 'serverName', 'insecure', 'minVersion', 'secureContext'];
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new TypeError(`unknown TLS option '${key}' (${known.join(', ')})`);
  }
  if ((options.certFile === undefined) !== (options.keyFile === undefined)) {
    throw new TypeError('tls.certFile and tls.keyFile go together');
  }
  const minVersion = VERSIONS[options.minVersion ?? '1.3'];
  if (minVersion === undefined) throw new RangeError(`tls.minVersion must be '1.2' or '1.3', not '${options.minVersion}'`);
  const base = { ALPNProtocols: [ALPN], minVersion };
  if (options.secureContext !== undefined) {
    if (options.caFile !== undefined || options.certFile !== undefined || options.insecure) {
      throw new TypeError('tls: with a secureContext of your own, set CAs and certificates in it');
    }
    base.secureContext = options.secureContext;
  }
  if (options.caFile !== undefined) base.ca = readPem(options, 'caFile');
  if (options.certFile !== undefined) {
    base.cert = readPem(options, 'certFile');
    base.key = readPem(options, 'keyFile');
    try {
      tls.createSecureContext({ cert: base.cert, key: base.key });  // a key that does not match: now
    } catch (error) {
      throw new RangeError(`tls.certFile ${options.certFile} / tls.keyFile ${options.keyFile}: ${error.reason ?? error.message}`);
    }
  }
  const insecure = options.insecure === true;
  if (insecure) base.rejectUnauthorized = false;
  return (address) => {
    const name = options.serverName ?? address.host;
    if (name === undefined && !insecure) {
      throw new RangeError(`TLS to a Unix-socket target ${target} needs tls.serverName`);
    }
    const connect = { ...base };
    if (name !== undefined) {
      // SNI carries names only; an address is matched against the certificate's IP SANs.
      if (!net.isIP(name)) connect.servername = name;
      connect.checkServerIdentity = (_, cert) => tls.checkServerIdentity(name, cert);
    }
    return connect;
  };
}

/** The cause of a TLS failure in OpenSSL's words, with the kind of a verification failure. */
function describeTlsError(error) {
  const kind = VERIFY_KINDS[error.code];
  if (kind !== undefined) return `certificate verify failed: ${error.message} (${kind})`;
  return error.reason ?? error.message;
}

/** Whether `error` came from TLS (an alert, a verification failure) rather than the socket. */
function isTlsError(error) {
  return VERIFY_KINDS[error.code] !== undefined || error.reason !== undefined ||
    (typeof error.code === 'string' && (error.code.startsWith('ERR_SSL_') || error.code.startsWith('ERR_TLS_')));
}

module.exports = { ALPN, tlsConnector, describeTlsError, isTlsError };
