import { smoke } from '../../scripts/smoke';
import { hs256, SECRET } from '../helpers/jwt';
import { startLocal } from '../helpers/local';

describe('npm run smoke', () => {
  it('drives one full chat against the local server, with a token, and prints the answer and timings', async () => {
    const local = await startLocal({ AUTH_JWT_SECRET: SECRET });
    try {
      let output = '';
      const ok = await smoke({ url: local.url, token: await hs256(), prompt: 'smoke test', timeoutMs: 5000 }, (text) => (output += text));
      expect(ok).toBe(true);
      expect(output).toContain('You said: "smoke test"');
      expect(output).toMatch(/"type":"done"/);
      expect(output).toMatch(/connect \d+ ms · first chunk \d+ ms · total \d+ ms/);
      await expect(smoke({ url: local.url, prompt: 'x', timeoutMs: 5000 }, () => undefined)).rejects.toThrow('handshake refused: HTTP 401');
    } finally {
      await local.stop();
    }
  });
});
