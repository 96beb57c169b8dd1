import { firstCharacters } from '../models/text';

/** The mock model that answers in Markdown, so the chat page's rendering can be seen and tested locally. */
export const MARKDOWN_MOCK_MODEL = 'mock.markdown-v1';

/**
 * A fixed Markdown answer around the prompt: a heading, a paragraph with inline marks, a bulleted
 * and a numbered list, a fenced code block with one long line (it must scroll inside its block on
 * a phone, not widen the page) and a table — with its newlines kept, unlike the echo mock's.
 */
export function markdownAnswer(prompt: string): string {
  const topic = firstCharacters(prompt.replace(/\s+/g, ' ').trim(), 80).replace(/[`*_|#]/g, '');
  return [
    `## About "${topic}"`,
    '',
    'The gateway streams this answer in **small frames**; each carries a `seq` so a client can *resume* after a drop.',
    '',
    'What happens on the way:',
    '',
    '- the page sends `llm/stream` over the WebSocket',
    '- the route answers `accepted` with a resume token',
    '- the worker streams `chunk` frames, then one `done`',
    '',
    '1. Connect',
    '2. Ask',
    '3. Read as it arrives',
    '',
    '```ts',
    "const client = new GatewayClient({ url: 'ws://127.0.0.1:3000/local' });",
    "for await (const text of client.stream({ messages: [{ role: 'user', content: 'Hi' }] })) render(text); // a long line that scrolls inside its block",
    '```',
    '',
    '| Frame | Sent by | When |',
    '| --- | --- | --- |',
    '| `accepted` | route | at once |',
    '| `chunk` | worker | while the model writes |',
    '| `done` | worker | at the end |',
    '',
    'That is all.',
  ].join('\n');
}

/** The answer in tokens of a word and the whitespace after it (newlines included), as models stream. */
export function markdownTokens(prompt: string): string[] {
  return markdownAnswer(prompt).match(/\S+\s*|\s+/g) ?? [];
}
