import { spawn } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const JEST = join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js');

interface Run {
  readonly code: number | null;
  /** stdout and stderr together, as a terminal shows them. */
  readonly output: string;
}

/**
 * Runs jest on `paths` in a child process with Chromium missing (CHROMIUM_PATH names nothing) and
 * CI as given, in band so the run adds one process to a busy machine.
 */
function jestWithoutChromium(paths: readonly string[], ci: boolean): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, CHROMIUM_PATH: '/nonexistent', FORCE_COLOR: '0' };
  delete env['CI'];
  // Set by the jest running this test; the child is a jest of its own.
  delete env['JEST_WORKER_ID'];
  if (ci) env['CI'] = 'true';
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [JEST, '--runInBand', ...paths], { cwd: ROOT, env });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('a suite skipped for a missing tool (issue 43)', () => {
  // Two suites: jest is verbose (and prints a suite's console as it goes) only for a single one.
  // Without it, it drops the console of a suite whose tests were all skipped.
  const SUITES = ['tests/e2e/chat-page-layout.test.ts', 'tests/e2e/chat-page-actions.test.ts'];

  it('outside CI, says so in a loud *** SKIPPED line naming Chromium, and the run passes', async () => {
    const run = await jestWithoutChromium(SUITES, false);
    expect(run.output).toMatch(/\*\*\* SKIPPED \(no Chromium[^\n]*\) \*\*\*/);
    expect(run.output).toContain('tests/e2e/chat-page-layout.test.ts');
    expect(run.output).toContain('tests/e2e/chat-page-actions.test.ts');
    expect(run.code).toBe(0);
  }, 120_000);

  it('under CI=true, fails naming what is missing', async () => {
    const run = await jestWithoutChromium(SUITES.slice(0, 1), true);
    expect(run.output).toContain('missing in CI: no Chromium');
    expect(run.code).not.toBe(0);
  }, 120_000);
});
