#!/usr/bin/env node
'use strict';
// Runs a command on a framerpc server through the command service's bidirectional Exec: this
// process's stdin is streamed to the command, its stdout and stderr come back as they are produced,
// and the exit code is the command's.
//
//   framerpc_server --listen=unix:/tmp/f.sock --enable_command_service --command_allow=/bin/cat
//   echo hello | node clients/node/examples/run_command.js --address=unix:/tmp/f.sock -- /bin/cat
//
// --token_file=PATH sends the server's shared secret (authorization: Bearer <token>).
const fs = require('fs');
const framerpc = require('../lib');
const { generateStubs } = require('../scripts/gen-stubs');

function parse(argv) {
  const options = { address: '', tokenFile: '', timeoutMs: 0 };
  const dash = argv.indexOf('--');
  const command = dash < 0 ? [] : argv.slice(dash + 1);
  for (const arg of dash < 0 ? argv : argv.slice(0, dash)) {
    const [, key, value] = /^--([a-z_]+)=(.*)$/.exec(arg) || [];
    if (key === 'address') options.address = value;
    else if (key === 'token_file') options.tokenFile = value;
    else if (key === 'timeout_ms') options.timeoutMs = Number(value);
    else throw new Error(`unknown argument ${arg}`);
  }
  if (!options.address || command.length === 0) {
    throw new Error('usage: run_command.js --address=ADDRESS [--token_file=PATH] [--timeout_ms=N] -- PROGRAM [ARGS...]');
  }
  return { ...options, command };
}

// The requests: start, then stdin as it arrives, then close_stdin.
async function* requests(command, timeoutMs) {
  yield { start: { command: { argv: command, timeoutMs }, streamStdin: true } };
  for await (const chunk of process.stdin) yield { stdin: chunk };
  yield { closeStdin: true };
}

async function main() {
  const options = parse(process.argv.slice(2));
  const { CommandServiceClient } = generateStubs(['services/command/command.proto'])('services/command/command.proto');
  const metadata = options.tokenFile
    ? { authorization: `Bearer ${fs.readFileSync(options.tokenFile, 'utf8').trim()}` } : undefined;
  const channel = new framerpc.Channel(options.address);
  const exec = new CommandServiceClient(channel).Exec(requests(options.command, options.timeoutMs), { metadata });
  let code = 0;
  for await (const response of exec) {
    if (response.kind === 'stdout') process.stdout.write(response.stdout);
    else if (response.kind === 'stderr') process.stderr.write(response.stderr);
    else if (response.kind === 'exit') {
      const exit = response.exit;
      code = exit.how === 'signal' ? 128 + exit.signal : exit.exitCode;
      if (exit.timedOut) process.stderr.write('run_command: the command timed out\n');
    }
  }
  process.stdin.destroy();
  await channel.close();
  process.exitCode = code;
}

main().catch((error) => {
  process.stderr.write(`run_command: ${error instanceof framerpc.RpcError ? `${error.codeName}: ${error.message}` : error.message}\n`);
  process.exit(1);
});
