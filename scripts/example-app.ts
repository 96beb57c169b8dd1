/**
 * The React example (examples/react-chat) for `npm run local`: built once (Vite, ~2 s) when it
 * has not been, in the background, so /react/ works on a fresh clone without a step of its own.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

const ROOT = resolve(__dirname, '..');
export const EXAMPLE_DIST = resolve(ROOT, 'examples/react-chat/dist/index.html');

/** Builds the example unless it is built; resolves with what happened, never rejects. */
export function ensureExampleBuilt(): Promise<'built' | 'present' | 'failed'> {
  if (existsSync(EXAMPLE_DIST)) return Promise.resolve('present');
  return new Promise((done) => {
    const vite = spawn(process.execPath, [resolve(ROOT, 'node_modules/vite/bin/vite.js'), 'build', 'examples/react-chat', '--logLevel', 'error'], { cwd: ROOT, stdio: 'ignore' });
    vite.on('error', () => done('failed'));
    vite.on('exit', (code) => done(code === 0 && existsSync(EXAMPLE_DIST) ? 'built' : 'failed'));
  });
}
