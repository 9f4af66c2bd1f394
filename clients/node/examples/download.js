#!/usr/bin/env node
'use strict';
// Downloads a file from a framerpc server's file service (server-streaming Download: a header, the
// data as raw attachments, a trailer with the checksum), writing it to a local file as it arrives
// and checking the digest before renaming it into place. The checksum is XXH3-128 unless
// --checksum=sha256; a server older than the choice sends SHA-256, which is then checked.
//
//   framerpc_server --listen=unix:/tmp/f.sock --file_root=/srv/files
//   node clients/node/examples/download.js --address=unix:/tmp/f.sock --path=dir/file.bin --out=file.bin
//
// --token_file=PATH sends the server's shared secret (authorization: Bearer <token>).
const fs = require('fs');
const framerpc = require('../lib');
const { generateStubs } = require('../scripts/gen-stubs');

function parse(argv) {
  const options = { address: '', path: '', out: '', token_file: '', checksum: 'xxh3' };
  for (const arg of argv) {
    const [, key, value] = /^--([a-z_]+)=(.*)$/.exec(arg) || [];
    if (!(key in options)) throw new Error(`unknown argument ${arg}`);
    options[key] = value;
  }
  if (!options.address || !options.path || !options.out) {
    throw new Error('usage: download.js --address=ADDRESS --path=REMOTE --out=LOCAL [--token_file=PATH] [--checksum=xxh3|sha256]');
  }
  if (!framerpc.checksum.NAMES.includes(options.checksum)) {
    throw new Error(`--checksum must be xxh3 or sha256, not '${options.checksum}'`);
  }
  return options;
}

async function main() {
  const options = parse(process.argv.slice(2));
  const { FileServiceClient } = generateStubs(['services/file/file.proto'])('services/file/file.proto');
  const metadata = options.token_file
    ? { authorization: `Bearer ${fs.readFileSync(options.token_file, 'utf8').trim()}` } : undefined;
  const channel = new framerpc.Channel(options.address);
  const partial = `${options.out}.part`;
  let out = fs.openSync(partial, 'w');
  try {
    const request = { path: options.path, checksum: framerpc.checksum.protoValue(options.checksum) };
    const download = new FileServiceClient(channel).Download(request, { metadata });
    let hash = null;
    let used = null;
    let header = null;
    let received = 0;
    let trailer = null;
    for (let item = await download.readWithAttachment(); item !== null; item = await download.readWithAttachment()) {
      const { message, attachment } = item;
      if (message.part === 'header') {
        header = message.header;
        used = framerpc.checksum.answered(header.checksum, options.checksum);
        hash = await framerpc.checksum.createHasher(used);
      } else if (message.part === 'trailer') {
        trailer = message.trailer;
      } else {
        hash.update(attachment);
        fs.writeSync(out, attachment);
        received += attachment.length;
      }
    }
    if (header === null || trailer === null || received !== Number(header.length)) {
      throw new Error(`incomplete download: ${received} bytes`);
    }
    const digest = hash.digest().toString('hex');
    if (framerpc.checksum.trailerDigest(trailer, header.checksum).toString('hex') !== digest) {
      throw new Error(`${framerpc.checksum.title(used)} mismatch`);
    }
    fs.closeSync(out);
    out = null;
    fs.renameSync(partial, options.out);
    process.stdout.write(`${options.out}: ${received} bytes, ${used} ${digest}\n`);
  } catch (error) {
    if (out !== null) fs.closeSync(out);
    fs.rmSync(partial, { force: true });
    throw error;
  } finally {
    await channel.close();
  }
}

main().catch((error) => {
  process.stderr.write(`download: ${error instanceof framerpc.RpcError ? `${error.codeName}: ${error.message}` : error.message}\n`);
  process.exit(1);
});
