/**
 * Where Chromium is: `CHROMIUM_PATH` when set, else the first of `chromium`, `chromium-browser`
 * on PATH. The browser tests and `.ci/run` (which installs Debian's chromium when this finds
 * none) ask this one lookup, so they can never disagree. Run directly, it prints the path, or
 * says what is missing and exits 1.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

const NAMES = ['chromium', 'chromium-browser'];

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const given = env['CHROMIUM_PATH'];
  if (given !== undefined && given !== '') return executable(given) ? given : undefined;
  for (const dir of (env['PATH'] ?? '').split(delimiter).filter(Boolean)) {
    for (const name of NAMES) if (executable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** What to tell someone who has none. */
export const CHROMIUM_MISSING = 'no Chromium: neither CHROMIUM_PATH nor `chromium`/`chromium-browser` on PATH (Debian: apt-get install chromium)';

if (require.main === module) {
  const path = chromiumPath();
  if (path === undefined) {
    console.error(CHROMIUM_MISSING);
    process.exit(1);
  }
  console.log(path);
}
