/**
 * Runs a bench file in a copy of an earlier version of the project, for a "before" column
 * measured in the same run as the "after": the version's files from git (`git archive`), this
 * checkout's node_modules linked in, the bench files copied over (they import only what both
 * versions have), then `tsx <file>` there, whose stdout is JSON. The copy is removed afterwards.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * The version the "before" figures are measured on: the last commit before issues 36 and 37
 * (hardening, current models and the worker's cold start) changed any behaviour. (Issue 30's
 * before, b7c6897, is in the history of docs/BENCHMARKS.md.)
 */
export const BASELINE = process.env['BENCH_BASELINE'] ?? 'cd05631';

const ROOT = resolve(__dirname, '..');

export function runInBaseline<T>(entry: string, alongside: readonly string[], args: readonly string[] = [], commit = BASELINE): T {
  const dir = mkdtempSync(join(tmpdir(), 'wsgw-baseline-'));
  try {
    execFileSync('sh', ['-c', `git archive ${commit} | tar -x -C "${dir}"`], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    for (const file of [entry, ...alongside]) copyFileSync(join(ROOT, file), join(dir, file));
    const out = execFileSync(join(ROOT, 'node_modules/.bin/tsx'), [entry, ...args], {
      cwd: dir,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 16 * 1024 * 1024,
    });
    return JSON.parse(out.toString('utf8')) as T;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const [entry = 'bench/cost.ts', ...alongside] = process.argv.slice(2);
  process.stdout.write(`${JSON.stringify(runInBaseline(entry, alongside, ['--json']))}\n`);
}
