/**
 * The docs' model table, rendered from src/config/model-table.ts: `npm run docs:models` writes
 * it into docs/PROVIDERS.md between its markers, and a test fails when the file is out of date.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { MODEL_TABLE, type ModelSpec } from '../src/config/model-table';

export const PROVIDERS_DOC = resolve(__dirname, '../docs/PROVIDERS.md');
const START = '<!-- model-table -->';
const END = '<!-- /model-table -->';

const tokens = (n: number): string => (n >= 1_000_000 ? `${n / 1_000_000}M` : `${Math.round(n / 1000)}K`);
const price = (n: number | undefined): string => (n === undefined ? '—' : `$${n}`);
const yes = (on: boolean): string => (on ? 'yes' : '—');

function row(spec: ModelSpec): string {
  const { prices, caching } = spec;
  return [
    `\`${spec.id}\``,
    spec.name,
    spec.provider,
    tokens(spec.contextTokens),
    tokens(spec.maxOutputTokens),
    [spec.images ? 'images' : '', spec.documents ? 'documents' : ''].filter(Boolean).join(', ') || '—',
    yes(spec.tools),
    yes(spec.reasoning),
    caching === undefined ? '—' : `≥ ${caching.minTokens} tokens, ${caching.maxCheckpoints} points, ${caching.ttls.join('/')}`,
    prices === undefined ? '—' : `${price(prices.input)} / ${price(prices.output)}`,
    prices === undefined ? '—' : `${price(prices.cacheRead)} / ${price(prices.cacheWrite)}`,
  ].join(' | ');
}

/** The Markdown table, one row per model of the table. */
export function renderModelTable(): string {
  return [
    '| model id | name | provider | context | max output | reads | tools | reasoning | prompt caching | $ per 1M in / out | $ per 1M cache read / write |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...Object.values(MODEL_TABLE).map((spec) => `| ${row(spec)} |`),
  ].join('\n');
}

/** docs/PROVIDERS.md with the table between its markers replaced by `table`. */
export function withModelTable(doc: string, table: string): string {
  const start = doc.indexOf(START);
  const end = doc.indexOf(END);
  if (start < 0 || end < start) throw new Error(`docs/PROVIDERS.md has no ${START} … ${END} section`);
  return `${doc.slice(0, start + START.length)}\n${table}\n${doc.slice(end)}`;
}

if (require.main === module) {
  writeFileSync(PROVIDERS_DOC, withModelTable(readFileSync(PROVIDERS_DOC, 'utf8'), renderModelTable()));
}
