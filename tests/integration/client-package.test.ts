import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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

  it('packs only dist/, README.md and package.json', () => {
    const [pack] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: 'client', encoding: 'utf8' })) as Array<{ files: Array<{ path: string }> }>;
    const files = pack!.files.map((f) => f.path).sort();
    expect(files.every((path) => path.startsWith('dist/') || path === 'README.md' || path === 'package.json')).toBe(true);
    expect(files).toEqual(expect.arrayContaining(['README.md', 'package.json', 'dist/index.js', 'dist/index.d.ts']));
  });

  it('imports cleanly in Node as an ES module, with no dependency', () => {
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(`${CLIENT_DIST}/index.js`)}); console.log(typeof m.GatewayClient, m.ERROR_CODES.length, new m.GatewayError('cancelled', 'x').name);`], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('function 14 AbortError');
    expect(JSON.parse(readFileSync('client/package.json', 'utf8'))).not.toHaveProperty('dependencies');
    expect(readFileSync(`${CLIENT_DIST}/index.js`, 'utf8')).not.toMatch(/\brequire\(|from ['"](?!\.)/);
  });

  it('type-checks a consumer under strict against its .d.ts', () => {
    const run = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tests/fixtures/client-consumer/tsconfig.json'], { encoding: 'utf8' });
    expect(`${run.stdout}${run.stderr}`).toBe('');
    expect(run.status).toBe(0);
  });
});
