// @ts-check
import { relative } from 'node:path';

/**
 * Repeats, after jest's summary, every `*** SKIPPED (…) ***` line a suite printed when a tool
 * from outside npm is missing (tests/helpers/required-tool.ts), with the suites it skipped.
 * Jest shows nothing of a suite whose tests were all skipped — not even its console — so a run
 * of `jest tests/e2e` without Chromium said "4 skipped" and nothing about why (issue 43). The
 * lines come from each result's console buffer, which jest keeps even when it does not print it.
 * (A run of a single file is verbose: its console goes straight out and is in no buffer, so
 * nothing is repeated.) Under CI nothing is skipped: the suites fail instead.
 *
 * Plain ESM: jest loads reporters with require/import, without the TypeScript transform.
 */

/** @typedef {import('@jest/test-result').TestResult} TestResult */
/** @typedef {import('@jest/reporters').Reporter} Reporter */

const SKIP_LINE = /\*\*\* SKIPPED \(.*\) \*\*\*/;

/** @implements {Reporter} */
export default class SkipReporter {
  /** @type {string} */
  #rootDir;
  /** Each line, with the suites it skipped (in the order they ended). @type {Map<string, string[]>} */
  #skips = new Map();

  /** @param {import('@jest/types').Config.GlobalConfig} globalConfig */
  constructor(globalConfig) {
    this.#rootDir = globalConfig.rootDir;
  }

  /**
   * @param {unknown} _test
   * @param {TestResult} result
   */
  onTestResult(_test, result) {
    for (const entry of result.console ?? []) {
      const line = SKIP_LINE.exec(entry.message)?.[0];
      if (line === undefined) continue;
      const suites = this.#skips.get(line) ?? [];
      suites.push(`${relative(this.#rootDir, result.testFilePath)} (${result.numPendingTests} tests skipped)`);
      this.#skips.set(line, suites);
    }
  }

  onRunComplete() {
    if (this.#skips.size === 0) return;
    const blocks = [...this.#skips].map(([line, suites]) => [line, ...suites.map((suite) => `    ${suite}`)].join('\n'));
    process.stderr.write(`\n${blocks.join('\n\n')}\n\n`);
  }

  getLastError() {
    return undefined;
  }
}
