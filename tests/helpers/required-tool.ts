/**
 * Tests that need a tool outside npm (Chromium, the SAM translator, cfn-lint). Where the tool is
 * missing, CI (`CI=true`, as .ci/run runs) fails the tests saying what is missing — a suite that
 * skips what it cannot run would be green without proving anything — and a developer's machine
 * skips them loudly.
 */
const inCi = (): boolean => process.env['CI'] === 'true';

/** `it` when nothing is missing; else, in CI, a test that fails naming it; elsewhere `it.skip`. */
export function itWith(missing: string | undefined): (name: string, fn: () => unknown) => void {
  if (missing === undefined) return (name, fn) => it(name, fn as jest.ProvidesCallback);
  if (inCi()) {
    return (name) =>
      it(name, () => {
        throw new Error(`missing in CI: ${missing}`);
      });
  }
  console.warn(`\n*** SKIPPED (${missing}) ***\n`);
  return (name, fn) => it.skip(name, fn as jest.ProvidesCallback);
}

/** `describe` when nothing is missing; else, in CI, one failing test naming it; elsewhere `describe.skip`. */
export function describeWith(missing: string | undefined): (name: string, body: () => void) => void {
  if (missing === undefined) return describe;
  if (inCi()) {
    return (name) =>
      describe(name, () => {
        it('has what it needs', () => {
          throw new Error(`missing in CI: ${missing}`);
        });
      });
  }
  console.warn(`\n*** SKIPPED (${missing}) ***\n`);
  return describe.skip;
}
