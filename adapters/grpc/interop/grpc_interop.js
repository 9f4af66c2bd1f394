#!/usr/bin/env node
'use strict';
// A gRPC client framerpc did not write: @grpc/grpc-js and @grpc/proto-loader from npm (this
// directory's package-lock.json), loading the .proto files at run time, against framerpc_server's
// gRPC adapter.
//
//   node grpc_interop.js PROTO_ROOT HOST:PORT FILE_PATH LOCAL_FILE
//
// PROTO_ROOT is the directory the .proto paths (proto/echo.proto, services/...) are relative to;
// FILE_PATH the file's path under the server's --file_root, LOCAL_FILE the same file on disk. The
// server must allow /bin/echo, /bin/cat and /usr/bin/seq. Checks EchoService.Say,
// CommandService.Exec (output, exit codes, stdin, an error status, a deadline) and
// FileService.Download (header, data chunks in the `data` field, trailer SHA-256 against what
// arrived and against the file, a resumed range, error statuses). Prints
// "node grpc interop: all checks passed" and exits 0, or exits 1 with what failed.
const assert = require('assert/strict');
const crypto = require('crypto');
const fs = require('fs');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const TIMEOUT_MS = 20000;  // generous, for loaded machines; the deadline check uses a short one

function deadline(ms = TIMEOUT_MS) {
  return new Date(Date.now() + ms);
}

function sha256(data) {
  return crypto.createHash('sha256').update(data).digest();
}

// Resolves with the call's error, which must have `code`; rejects if the promise resolves.
async function expectError(code, promise, what) {
  try {
    await promise;
  } catch (error) {
    assert.equal(error.code, code,
        `${what}: ${grpc.status[error.code]} ${JSON.stringify(error.details)}, not ${grpc.status[code]}`);
    return error;
  }
  assert.fail(`${what}: succeeded, expected ${grpc.status[code]}`);
}

function say(echo, request) {
  return new Promise((resolve, reject) => {
    echo.Say(request, {deadline: deadline()}, (error, reply) => (error ? reject(error) : resolve(reply)));
  });
}

async function checkEcho(echo) {
  let reply = await say(echo, {text: 'from node grpc-js'});
  assert.equal(reply.text, 'from node grpc-js');
  reply = await say(echo, {text: 'shout', uppercase: true});
  assert.equal(reply.text, 'SHOUT');
  console.log('node: echo ok');
}

function execStart(argv, streamStdin = false) {
  return {start: {command: {argv}, stream_stdin: streamStdin}};
}

// One Exec call: writes `requests`, half-closes unless `keepOpen`, and resolves with
// {stdout, stderr, exit} once the call ends OK; the exit must come last.
function runExec(command, requests, {timeoutMs = TIMEOUT_MS, keepOpen = false} = {}) {
  return new Promise((resolve, reject) => {
    const call = command.Exec({deadline: deadline(timeoutMs)});
    const stdout = [];
    const stderr = [];
    let exit = null;
    let failure = null;
    call.on('data', (response) => {
      if (exit !== null) failure = failure || new Error('a message after the exit');
      switch (response.kind) {
        case 'stdout': stdout.push(response.stdout); break;
        case 'stderr': stderr.push(response.stderr); break;
        case 'exit': exit = response.exit; break;
        default: failure = failure || new Error(`empty ExecResponse: ${JSON.stringify(response)}`);
      }
    });
    call.on('error', reject);
    call.on('end', () => {
      if (failure) return reject(failure);
      if (exit === null) return reject(new Error('Exec ended without an exit status'));
      resolve({stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr), exit});
    });
    for (const request of requests) call.write(request);
    if (!keepOpen) call.end();
  });
}

async function checkExec(command) {
  // argv reaches the program literally: no shell.
  let r = await runExec(command, [execStart(['/bin/echo', 'hello;', '$(reboot)'])]);
  assert.equal(r.stdout.toString(), 'hello; $(reboot)\n');
  assert.equal(r.stderr.length, 0);
  assert.equal(r.exit.how, 'exit_code');
  assert.equal(r.exit.exit_code, 0);

  // Output over many messages, in order.
  r = await runExec(command, [execStart(['/usr/bin/seq', '1', '20000'])]);
  let expected = '';
  for (let i = 1; i <= 20000; i++) expected += `${i}\n`;
  assert.ok(r.stdout.equals(Buffer.from(expected)), `seq: ${r.stdout.length} bytes, expected ${expected.length}`);
  assert.equal(r.exit.exit_code, 0);
  assert.equal(r.exit.stdout_truncated, false);

  // A non-zero exit is an exit code, not an error status.
  r = await runExec(command, [execStart(['/bin/cat', '/nonexistent/framerpc'])]);
  assert.equal(r.exit.how, 'exit_code');
  assert.equal(r.exit.exit_code, 1);
  assert.ok(r.stderr.toString().includes('/nonexistent/framerpc'), `cat stderr: ${r.stderr}`);

  // stdin streamed by the client, closed with close_stdin.
  r = await runExec(command, [
    execStart(['/bin/cat'], true),
    {stdin: Buffer.from('first line\n')},
    {stdin: Buffer.from('second line\n')},
    {close_stdin: true},
  ]);
  assert.equal(r.stdout.toString(), 'first line\nsecond line\n');
  assert.equal(r.exit.exit_code, 0);

  // An error status from the service passes through, code and message.
  const error = await expectError(grpc.status.PERMISSION_DENIED,
      runExec(command, [execStart(['/bin/ls', '/'])]), 'Exec /bin/ls');
  assert.ok(error.details.includes('/bin/ls'), `PERMISSION_DENIED message: ${error.details}`);

  // The deadline: cat waits for stdin that never comes (the call stays open), so only the
  // deadline ends the call.
  await expectError(grpc.status.DEADLINE_EXCEEDED,
      runExec(command, [execStart(['/bin/cat'], true)], {timeoutMs: 500, keepOpen: true}),
      'Exec past its deadline');
  // The server is still fine afterwards.
  r = await runExec(command, [execStart(['/bin/echo', 'after'])]);
  assert.equal(r.stdout.toString(), 'after\n');
  assert.equal(r.exit.exit_code, 0);
  console.log('node: command Exec ok');
}

// One Download call: resolves with {header, data, trailer, chunks}.
function download(files, request) {
  return new Promise((resolve, reject) => {
    const call = files.Download(request, {deadline: deadline()});
    let header = null;
    let trailer = null;
    let failure = null;
    const data = [];
    const fail = (why) => { failure = failure || new Error(why); };
    call.on('data', (response) => {
      if (trailer !== null) return fail('a message after the trailer');
      if (response.part === 'header') {
        if (header !== null || response.data.length) return fail('a second header, or data with it');
        header = response.header;
      } else if (response.part === 'trailer') {
        if (header === null || response.data.length) return fail('trailer before header, or with data');
        trailer = response.trailer;
      } else {
        if (header === null) return fail('data before the header');
        if (response.data.length === 0 || response.data.length > header.chunk_bytes) {
          return fail(`data message of ${response.data.length} bytes (chunk_bytes ${header.chunk_bytes})`);
        }
        data.push(response.data);
      }
    });
    call.on('error', reject);
    call.on('end', () => {
      if (failure) return reject(failure);
      if (header === null || trailer === null) return reject(new Error('no header or no trailer'));
      resolve({header, data: Buffer.concat(data), trailer, chunks: data.length});
    });
  });
}

async function checkDownload(files, path, localFile) {
  const content = fs.readFileSync(localFile);
  const fileSha = sha256(content);

  let d = await download(files, {path});
  assert.equal(d.header.stat.kind, 'FILE_KIND_REGULAR');
  // uint64 fields arrive as strings (longs: String), exact beyond 2^53.
  assert.equal(d.header.stat.size, String(content.length));
  assert.equal(d.header.offset, '0');
  assert.equal(d.header.length, String(content.length));
  assert.equal(d.data.length, content.length, `${d.data.length} bytes arrived of ${content.length}`);
  assert.ok(sha256(d.data).equals(d.trailer.sha256), "SHA-256 of the data != trailer's");
  assert.ok(d.trailer.sha256.equals(fileSha), "trailer's SHA-256 != the file's");
  assert.ok(d.data.equals(content), 'data differs from the file');
  assert.ok(d.chunks >= 2, `only ${d.chunks} data message(s): the test file should span several`);

  // A resumed download: the rest of the file, and the whole file's SHA-256.
  const offset = Math.floor(content.length / 3);
  d = await download(files, {path, offset, sha256_from_start: true});
  assert.equal(d.header.offset, String(offset));
  assert.equal(d.header.length, String(content.length - offset));
  assert.ok(d.data.equals(content.subarray(offset)), 'resumed data differs from the file');
  assert.ok(d.trailer.sha256.equals(sha256(d.data)), 'resumed trailer sha256');
  assert.ok(d.trailer.file_sha256.equals(fileSha), "file_sha256 != the file's SHA-256");

  // Errors pass through with their codes.
  await expectError(grpc.status.NOT_FOUND, download(files, {path: 'no/such/file'}),
      'Download of a missing file');
  await expectError(grpc.status.INVALID_ARGUMENT, download(files, {path: '../escape'}),
      'Download above the root');
  await expectError(grpc.status.OUT_OF_RANGE, download(files, {path, offset: content.length + 1}),
      'Download past the end');
  console.log('node: file Download ok');
}

async function main() {
  const [protoRoot, address, path, localFile] = process.argv.slice(2);
  if (!localFile) {
    console.error('usage: grpc_interop.js PROTO_ROOT HOST:PORT FILE_PATH LOCAL_FILE');
    process.exit(2);
  }
  const definition = protoLoader.loadSync(
      ['proto/echo.proto', 'services/command/command.proto', 'services/file/file.proto'],
      {includeDirs: [protoRoot], keepCase: true, longs: String, enums: String, defaults: true,
       oneofs: true});
  const pkg = grpc.loadPackageDefinition(definition).framerpc;
  const credentials = grpc.credentials.createInsecure();
  const clients = [
    new pkg.echo.EchoService(address, credentials),
    new pkg.command.CommandService(address, credentials),
    new pkg.file.FileService(address, credentials),
  ];
  const [echo, command, files] = clients;
  try {
    await checkEcho(echo);
    await checkExec(command);
    await checkDownload(files, path, localFile);
  } finally {
    for (const client of clients) client.close();
  }
  console.log('node grpc interop: all checks passed');
}

main().catch((error) => {
  console.error(`node grpc interop: FAILED: ${error.stack || error}`);
  process.exit(1);
});
