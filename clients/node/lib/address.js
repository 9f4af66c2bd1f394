'use strict';
// Channel targets: "host:port", "[v6]:port" and "unix:/path", as the C++ SocketAddress takes them
// ("unix:@name", an abstract socket, is refused: see parseAddress)
// (host names are also accepted here, and resolved by Node when connecting).
const net = require('net');

/**
 * Parses a target. Returns {text, path} for a Unix socket or {text, host, port, family} for TCP
 * (family 4 or 6 for a numeric address, 0 for a name); throws TypeError/RangeError with the reason.
 */
function parseAddress(text) {
  if (typeof text !== 'string') throw new TypeError(`address must be a string, not ${typeof text}`);
  if (text.startsWith('unix:@')) {
    // Node 20 connects to an abstract name with the whole 108-byte sun_path (the name padded with
    // NUL bytes), which is another name than the one framerpc_server binds: refuse it clearly
    // rather than fail to connect.
    throw new RangeError(`abstract unix sockets ('unix:@name') are not supported by the Node client: '${text}'`);
  }
  if (text.startsWith('unix:')) {
    const path = text.slice(5);
    const bytes = Buffer.byteLength(path);
    if (bytes < 1 || bytes > 107) throw new RangeError(`unix socket path must be 1 to 107 bytes: '${text}'`);
    if (path.includes('\0')) throw new RangeError(`unix socket address contains a NUL byte: '${text}'`);
    return { text, path };
  }
  if (text.startsWith('udp:')) {
    throw new RangeError(`udp: targets are not supported by the Node client (TCP and Unix sockets only): '${text}'`);
  }
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) throw new RangeError(`unterminated '[' in address '${text}'`);
    if (text[close + 1] !== ':') throw new RangeError(`missing ':port' after ']' in '${text}'`);
  }
  const colon = text.lastIndexOf(':');
  if (colon < 0) throw new RangeError(`address '${text}' is not host:port, [v6]:port or unix:/path`);
  const host = text.slice(0, colon);
  const portText = text.slice(colon + 1);
  if (!/^[0-9]{1,5}$/.test(portText) || Number(portText) > 65535) {
    throw new RangeError(`bad port in address '${text}'`);
  }
  const port = Number(portText);
  if (host.startsWith('[') && host.endsWith(']')) {
    const v6 = host.slice(1, -1);
    if (!net.isIPv6(v6)) throw new RangeError(`bad IPv6 address in address '${text}'`);
    return { text, host: v6, port, family: 6 };
  }
  if (!host) throw new RangeError(`missing host in address '${text}'`);
  if (host.includes(':')) throw new RangeError(`IPv6 addresses need brackets: '[${host}]:${port}'`);
  return { text, host, port, family: net.isIPv4(host) ? 4 : 0 };
}

module.exports = { parseAddress };
