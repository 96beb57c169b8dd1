/** The size of the client package as a browser downloads it: minified, and gzipped. */
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { buildClient, CLIENT_DIST } from '../scripts/build-client';

export interface ClientBundleResults {
  readonly esmBytes: number;
  readonly minifiedBytes: number;
  readonly gzipBytes: number;
}

export async function measureClientBundle(): Promise<ClientBundleResults> {
  await buildClient({ sources: false });
  const min = readFileSync(`${CLIENT_DIST}/index.min.js`);
  return { esmBytes: readFileSync(`${CLIENT_DIST}/index.js`).length, minifiedBytes: min.length, gzipBytes: gzipSync(min, { level: 9 }).length };
}
