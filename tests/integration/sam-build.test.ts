import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * What `sam build` does before it bundles, as aws-lambda-builders' esbuild workflow does it: it
 * copies the CodeUri (here the project) to a scratch folder, installs the *production*
 * dependencies there (`npm install --production`), and then looks for `esbuild` in that copy's
 * node_modules/.bin (or on PATH). A devDependency is not installed there, so docs/DEPLOYING.md's
 * `npm ci && sam build` would end "Cannot find esbuild"; esbuild is a dependency for that reason.
 */
describe('sam build finds esbuild in its production install', () => {
  it('installs esbuild with the production dependencies of a copy, where the builder looks for it', () => {
    const copy = mkdtempSync(join(tmpdir(), 'sam-build-copy-'));
    try {
      for (const file of ['package.json', 'package-lock.json']) copyFileSync(file, join(copy, file));
      // The npm cache `npm ci` filled serves it (the registry only for what is missing).
      const install = spawnSync('npm', ['install', '--production', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: copy, encoding: 'utf8' });
      expect({ status: install.status, stderr: install.status === 0 ? '' : install.stderr }).toEqual({ status: 0, stderr: '' });
      const esbuild = join(copy, 'node_modules', '.bin', 'esbuild');
      expect(existsSync(esbuild)).toBe(true);
      const version = spawnSync(esbuild, ['--version'], { encoding: 'utf8' });
      expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
      // And nothing only the tests need came along.
      expect(existsSync(join(copy, 'node_modules', 'jest'))).toBe(false);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  }, 120_000);
});
