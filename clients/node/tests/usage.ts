// Compiled (not run) by plugin.test.js with tsc --strict against the generated .d.ts files and
// lib/index.d.ts: the typed stubs accept and return what they should, and refuse what they should
// not (@ts-expect-error lines fail the compile if they stop being errors).
import * as framerpc from 'framerpc';
import { EchoServiceClient, SayReply, SayRequest } from './proto/echo_frpc';
import { Chunk, NodeTestClient, ProbeRequest_Until, SumReply } from './clients/node/tests/test_service_frpc';
import { All, All_Sub_Mode, Color, KindsClient } from './clients/node/tests/generator_test_frpc';

export async function use(channel: framerpc.Channel): Promise<void> {
  const echo = new EchoServiceClient(channel);
  const reply: SayReply = await echo.Say({ text: 'hi', uppercase: true }, { timeout: 1000, metadata: { k: 'v' } });
  const text: string = reply.text;
  const call = echo.Bytes({}, { attachment: Buffer.from('x'), signal: new AbortController().signal });
  const size: number = Number((await call).size);
  const attachment: Buffer = call.responseAttachment;
  call.cancel();
  const created: SayRequest = SayRequest.create({ text: 'made' });
  await echo.Say(created);

  const nt = new NodeTestClient(channel);
  for await (const chunk of nt.Count({ count: 3 }, { window: 65536, attachment: Buffer.alloc(1) })) {
    const c: Chunk = chunk;
    const data: Uint8Array = c.data;
  }
  const upload = nt.Sum({ timeout: 5000 });
  const wrote: boolean = await upload.write({ seq: 1, data: Buffer.from('a') }, Buffer.from('b'));
  const sum: SumReply = await upload.finish();
  const fromIterable = nt.Sum([{ seq: 1 }, framerpc.withAttachment({ seq: 2 }, Buffer.alloc(2))]);
  await fromIterable.finished;
  const chat = nt.Echo();
  await chat.write({ seq: 1 });
  chat.end();
  const maybe: Chunk | null = await chat.read();
  const readable = chat.readable();
  await nt.Probe({ key: 'k', until: ProbeRequest_Until.BLOCKED });
  await nt.Probe({ until: 'RETURNED' });
  await nt.constructor_({ text: 'x' });

  const kinds = new KindsClient(channel);
  const all: All = await kinds.Get({ nums: [1], counts: { a: 5 }, color: Color.RED, name: 'n', when: { seconds: 1 }, sub: { mode: All_Sub_Mode.FAST } });
  const color: Color = all.color;
  const names: string | null | undefined = all.name;
  await kinds.function_({ mode: 'FAST' });

  try {
    await echo.Say({});
  } catch (error) {
    if (error instanceof framerpc.RpcError && error.code === framerpc.StatusCode.DEADLINE_EXCEEDED) {
      const message: string = error.message;
    }
  }

  const secure = new framerpc.Channel('10.0.0.5:7000', {
    connectTimeout: 2000,
    tls: { caFile: 'ca.pem', certFile: 'client.pem', keyFile: 'client.key', serverName: 'api', minVersion: '1.3' },
  });
  const plain = new framerpc.Channel('127.0.0.1:7000', { tls: true });
  await Promise.all([secure.close(), plain.close()]);
  // @ts-expect-error: TLS 1.1 is not offered
  new framerpc.Channel('10.0.0.5:7000', { tls: { minVersion: '1.1' } });

  // @ts-expect-error: a field of the wrong type
  await echo.Say({ text: 42 });
  // @ts-expect-error: a method the service does not have
  await echo.Shout({});
  // @ts-expect-error: a server-streaming call is not a promise of one reply
  const notOne: Chunk = await nt.Count({});
  // @ts-expect-error: client-streaming calls take no request message
  nt.Sum({ seq: 1 }).finished;
  void [text, size, attachment, wrote, sum, maybe, readable, color, names, notOne];
}
