#!/usr/bin/env node
'use strict';
// Downloads a file from a framerpc server's file service (server-streaming Download: a header, the
// data as raw attachments, a trailer with the SHA-256), writing it to a local file as it arrives
// and checking the SHA-256 before renaming it into place.
//
//   framerpc_server --listen=unix:/tmp/f.sock --file_root=/srv/files
//   node clients/node/examples/download.js --address=unix:/tmp/f.sock --path=dir/file.bin --out=file.bin
//
// --token_file=PATH sends the server's shared secret (authorization: Bearer <token>).
const crypto = require('crypto');
const fs = require('fs');
const framerpc = require('../lib');
const { generateStubs } = require('../scripts/gen-stubs');

function parse(argv) {
  const options = { address: '', path: '', out: '', token_file: '' };
  for (const arg of argv) {
    const [, key, value] = /^--([a-z_]+)=(.*)$/.exec(arg) || [];
    if (!(key in options)) throw new Error(`unknown argument ${arg}`);
    options[key] = value;
  }
  if (!options.address || !options.path || !options.out) {
    throw new Error('usage: download.js --address=ADDRESS --path=REMOTE --out=LOCAL [--token_file=PATH]');
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
    const download = new FileServiceClient(channel).Download({ path: options.path }, { metadata });
    const hash = crypto.createHash('sha256');
    let header = null;
    let received = 0;
    let trailer = null;
    for (let item = await download.readWithAttachment(); item !== null; item = await download.readWithAttachment()) {
      const { message, attachment } = item;
      if (message.part === 'header') {
        header = message.header;
      } else if (message.part === 'trailer') {
        trailer = message.trailer;
      } else {
        hash.update(attachment);
        fs.writeSync(out, attachment);
        received += attachment.length;
      }
    }
    const digest = hash.digest('hex');
    if (header === null || trailer === null || received !== Number(header.length)) {
      throw new Error(`incomplete download: ${received} bytes`);
    }
    if (Buffer.from(trailer.sha256).toString('hex') !== digest) throw new Error('SHA-256 mismatch');
    fs.closeSync(out);
    out = null;
    fs.renameSync(partial, options.out);
    process.stdout.write(`${options.out}: ${received} bytes, sha256 ${digest}\n`);
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
