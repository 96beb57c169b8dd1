import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromiumPath } from '../../scripts/chromium-path';

/** The one Chromium lookup .ci/run and the browser tests share. */
describe('chromiumPath', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'chromium-path-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const fake = (name: string, mode = 0o755): string => {
    const path = join(dir, name);
    writeFileSync(path, '#!/bin/sh\n');
    chmodSync(path, mode);
    return path;
  };

  it('finds chromium or chromium-browser on PATH, wherever PATH puts it', () => {
    expect(chromiumPath({ PATH: `/nonexistent:${dir}` })).toBeUndefined();
    const browser = fake('chromium-browser');
    expect(chromiumPath({ PATH: `/nonexistent:${dir}` })).toBe(browser);
    const chromium = fake('chromium');
    expect(chromiumPath({ PATH: dir })).toBe(chromium);
  });

  it('takes CHROMIUM_PATH first, and only if it can be run', () => {
    const onPath = fake('chromium');
    const given = fake('my-chrome');
    expect(chromiumPath({ PATH: dir, CHROMIUM_PATH: given })).toBe(given);
    expect(chromiumPath({ PATH: dir, CHROMIUM_PATH: fake('not-executable', 0o644) })).toBeUndefined();
    expect(chromiumPath({ PATH: dir, CHROMIUM_PATH: '' })).toBe(onPath);
  });
});
