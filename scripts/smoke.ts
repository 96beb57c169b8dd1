/**
 * `npm run smoke -- <wss url> [--token T] [--prompt "…"] [--model id]`: one full chat against any
 * gateway endpoint (deployed or local). Prints the streamed answer as it arrives, then timings
 * and usage; exits non-zero unless the answer ends with `done`.
 */
import WebSocket from 'ws';

interface Options {
  url: string;
  token?: string;
  prompt: string;
  model?: string;
  timeoutMs: number;
}

function parseArgs(argv: string[]): Options {
  const value = (name: string): string | undefined => {
    const at = argv.indexOf(`--${name}`);
    return at === -1 ? undefined : argv[at + 1];
  };
  const url = argv.find((arg, i) => !arg.startsWith('--') && (i === 0 || !argv[i - 1]!.startsWith('--')));
  if (!url) throw new Error('usage: npm run smoke -- <wss url> [--token T] [--prompt "…"] [--model id]');
  const token = value('token');
  const model = value('model');
  return {
    url,
    ...(token ? { token } : {}),
    ...(model ? { model } : {}),
    prompt: value('prompt') ?? 'Say hello in one short sentence.',
    timeoutMs: Number(value('timeout') ?? 60_000),
  };
}

export async function smoke(options: Options, out: (text: string) => void): Promise<boolean> {
  const url = new URL(options.url);
  if (options.token) url.searchParams.set('token', options.token);
  const started = Date.now();
  const socket = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('unexpected-response', (_req, res) => reject(new Error(`handshake refused: HTTP ${res.statusCode}`)));
    socket.once('error', reject);
  });
  const connectedMs = Date.now() - started;
  const requestId = `smoke-${Date.now().toString(36)}`;
  const sentAt = Date.now();
  let firstChunkMs: number | undefined;
  const ok = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => {
      out(`\n! no answer within ${options.timeoutMs} ms\n`);
      resolve(false);
    }, options.timeoutMs);
    socket.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
      if (frame['requestId'] !== requestId) return;
      if (frame['type'] === 'chunk') {
        firstChunkMs ??= Date.now() - sentAt;
        out(String(frame['content']));
      } else if (frame['type'] === 'done' || frame['type'] === 'error') {
        clearTimeout(timer);
        out(`\n\n${JSON.stringify(frame)}\n`);
        resolve(frame['type'] === 'done');
      }
    });
    socket.on('close', (code) => {
      clearTimeout(timer);
      out(`\n! connection closed (${code})\n`);
      resolve(false);
    });
    socket.send(
      JSON.stringify({
        action: 'llm/stream',
        requestId,
        data: { messages: [{ role: 'user', content: options.prompt }], ...(options.model ? { modelId: options.model } : {}) },
      }),
    );
  });
  out(`connect ${connectedMs} ms · first chunk ${firstChunkMs ?? '-'} ms · total ${Date.now() - sentAt} ms\n`);
  socket.removeAllListeners('close');
  socket.close(1000);
  return ok;
}

if (require.main === module) {
  smoke(parseArgs(process.argv.slice(2)), (text) => process.stdout.write(text)).then(
    (ok) => process.exit(ok ? 0 : 1),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
