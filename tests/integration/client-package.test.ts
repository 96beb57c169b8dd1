import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { mockAnswerTokens } from '../../src/llm/mock';
import { startLocal } from '../helpers/local';
import { buildClient, CLIENT_DIST, PAGE, pageScript, withClient } from '../../scripts/build-client';
import { generateClientProtocol, GENERATED } from '../../scripts/client-protocol';

/** The client package as users get it: built, packed, imported, and type-checked by a consumer. */
describe('the @ws-llm-gateway/client package', () => {
  beforeAll(async () => {
    await buildClient({ sources: false });
  }, 60_000);

  it('keeps its protocol types generated from the server’s modules, never edited by hand', () => {
    expect(readFileSync(GENERATED, 'utf8')).toBe(generateClientProtocol());
  });

  it('is the chat page’s protocol code: the page carries the current client, inlined', async () => {
    const page = readFileSync(PAGE, 'utf8');
    expect(page).toBe(withClient(page, await pageScript()));
    expect(page).not.toMatch(/new WebSocket\(|JSON\.stringify\(\{ action/);
  });

  it('keeps the AI SDK transport out of the core: a page that does not import /ai-sdk loads none of it', () => {
    const core = readFileSync(`${CLIENT_DIST}/index.min.js`, 'utf8');
    for (const mark of ['GatewayChatTransport', 'text-start', 'tool-input-available', 'sessionStorage']) expect(core).not.toContain(mark);
    expect(readFileSync(`${CLIENT_DIST}/ai-sdk.js`, 'utf8')).toContain('GatewayChatTransport');
    // Both entries share one copy of the client: the transport imports it, it does not repeat it.
    expect(readFileSync(`${CLIENT_DIST}/ai-sdk.js`, 'utf8')).not.toContain('class GatewayError');
  });

  it('packs only dist/, README.md and package.json', () => {
    const [pack] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: 'client', encoding: 'utf8' })) as Array<{ files: Array<{ path: string }> }>;
    const files = pack!.files.map((f) => f.path).sort();
    expect(files.every((path) => path.startsWith('dist/') || path === 'README.md' || path === 'package.json')).toBe(true);
    expect(files).toEqual(expect.arrayContaining(['README.md', 'package.json', 'dist/index.js', 'dist/index.d.ts']));
  });

  it('imports cleanly in Node as an ES module, with no dependency', () => {
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(`${CLIENT_DIST}/index.js`)}); console.log(typeof m.GatewayClient, m.ERROR_CODES.length, new m.GatewayError('cancelled', 'x').name);`], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('function 16 AbortError');
    expect(JSON.parse(readFileSync('client/package.json', 'utf8'))).not.toHaveProperty('dependencies');
    expect(readFileSync(`${CLIENT_DIST}/index.js`, 'utf8')).not.toMatch(/\brequire\(|from ['"](?!\.)/);
  });

  it('declares `ai` (what /ai-sdk plugs into) an optional peer dependency, in a range that holds both majors it is tested with', () => {
    const manifest = JSON.parse(readFileSync('client/package.json', 'utf8')) as { peerDependencies?: Record<string, string>; peerDependenciesMeta?: Record<string, { optional?: boolean }> };
    // Optional: the core entry needs nothing, and an app without the AI SDK installs nothing for it.
    expect(manifest.peerDependenciesMeta).toEqual({ ai: { optional: true } });
    expect(Object.keys(manifest.peerDependencies ?? {})).toEqual(['ai']);
    const range = manifest.peerDependencies!.ai!;
    // npm's own range semantics (semver, which npm uses; here through fastify's copy).
    const semver = createRequire(__filename)('semver') as { satisfies(version: string, range: string): boolean; validRange(range: string): string | null };
    expect(semver.validRange(range)).not.toBeNull();
    const installed = (name: string) => (JSON.parse(readFileSync(`node_modules/${name}/package.json`, 'utf8')) as { version: string }).version;
    for (const name of ['ai', 'ai-v5']) expect(semver.satisfies(installed(name), range)).toBe(true);
    // The shapes it emits are ai 5's and later's: ai 4's useChat is another API.
    expect(semver.satisfies('4.3.19', range)).toBe(false);
  });

  it('type-checks a consumer under strict against its .d.ts', () => {
    const run = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tests/fixtures/client-consumer/tsconfig.json'], { encoding: 'utf8' });
    expect(`${run.stdout}${run.stderr}`).toBe('');
    expect(run.status).toBe(0);
  });

  it('type-checks a browser consumer (strict, module nodenext, lib dom) that passes the DOM’s own WebSocket — window’s, the global, a subclass', () => {
    const run = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tests/fixtures/client-consumer/tsconfig.dom.json'], { encoding: 'utf8' });
    expect(`${run.stdout}${run.stderr}`).toBe('');
    expect(run.status).toBe(0);
  });

  it('runs the README’s Node and tools examples as a fresh project would (nodenext, strict, `ws` with @types/ws) and type-checks its React hook, useChat and assistant-ui snippets with React 19’s types', async () => {
    const readme = readFileSync('client/README.md', 'utf8');
    const blocks = [...readme.matchAll(/<!-- (?:compiled and run|type-checked) by the tests[^:]*: ([\w.-]+) -->\n```\w+\n([\s\S]*?)\n```/g)];
    expect(blocks.map((block) => block[1])).toEqual(['readme-node.ts', 'readme-tools.ts', 'readme-hook.tsx', 'readme-usechat.tsx', 'readme-usechat-tools.tsx', 'readme-usechat-conversations.tsx', 'readme-assistant-ui-conversations.tsx']);
    const project = mkdtempSync(join(tmpdir(), 'client-readme-'));
    const local = await startLocal({ MOCK_ANSWER_TOKENS: '12' });
    try {
      for (const [, file, code] of blocks) writeFileSync(join(project, file!), code!);
      // The app's own node_modules, as `npm install` of the package (a link, as a file: dependency makes) gives it.
      symlinkSync(resolve('node_modules'), join(project, 'node_modules'), 'dir');
      writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'readme-app', private: true, type: 'module' }));
      const compilerOptions = { target: 'ES2022', lib: ['ES2022', 'DOM'], module: 'nodenext', moduleResolution: 'nodenext', strict: true, jsx: 'react-jsx', types: ['node'], outDir: 'out', skipLibCheck: true };
      writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions, include: ['*.ts', '*.tsx'] }));
      const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', project], { encoding: 'utf8' });
      expect(`${tsc.stdout}${tsc.stderr}`).toBe('');
      // And with a bundler's resolution (Vite, Next.js), the subpath export included.
      writeFileSync(join(project, 'tsconfig.bundler.json'), JSON.stringify({ compilerOptions: { ...compilerOptions, module: 'esnext', moduleResolution: 'bundler', noEmit: true }, include: ['*.ts', '*.tsx'] }));
      const bundler = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(project, 'tsconfig.bundler.json')], { encoding: 'utf8' });
      expect(`${bundler.stdout}${bundler.stderr}`).toBe('');
      // Asynchronously: the gateway it talks to runs in this process.
      const run = await promisify(execFile)(process.execPath, [join(project, 'out/readme-node.js')], { encoding: 'utf8', env: { ...process.env, GATEWAY_URL: local.url }, timeout: 20_000 });
      expect(run.stdout).toContain(mockAnswerTokens('Hi', 12).join(''));
      expect(run.stdout).toMatch(/\nmock\.echo-v1: 12 tokens, stop: end_turn\n/);
      expect(run.stderr).toMatch(/^\[connecting\]\n\[open\]\n/);
      const tools = await promisify(execFile)(process.execPath, [join(project, 'out/readme-tools.js')], { encoding: 'utf8', env: { ...process.env, GATEWAY_URL: local.url }, timeout: 20_000 });
      expect(tools.stdout).toMatch(/^Calling get_time\. \n\[get_time → \d{2}:\d{2}:\d{2}\]\nFrom the tools: get_time returned "\d{2}:\d{2}:\d{2}"\.\n2 steps; 4 messages to send on\n$/);
    } finally {
      await local.stop();
      rmSync(project, { recursive: true, force: true });
    }
  }, 60_000);
});
