import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for AWS Secrets Manager's `GetSecretValue` on its real wire protocol (JSON 1.1:
 * `POST /` with `X-Amz-Target: secretsmanager.GetSecretValue`), so the real SDK client reads it.
 * Unknown secrets answer as AWS does: 400 `ResourceNotFoundException`.
 */
export class SecretsStandIn {
  readonly calls: { target: string; secretId: string; signed: boolean }[] = [];
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { SecretId?: string };
      const secretId = body.SecretId ?? '';
      this.calls.push({ target, secretId, signed: /^AWS4-HMAC-SHA256 /.test(String(req.headers['authorization'] ?? '')) });
      const value = this.secrets.get(secretId);
      res.setHeader('content-type', 'application/x-amz-json-1.1');
      if (target !== 'secretsmanager.GetSecretValue' || value === undefined) {
        res.writeHead(400).end(JSON.stringify({ __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." }));
        return;
      }
      res.writeHead(200).end(JSON.stringify({ ARN: secretId, Name: 'openai-key', SecretString: value, VersionId: 'v1', CreatedDate: 1 }));
    });
  });
  endpoint = '';

  constructor(private readonly secrets: Map<string, string>) {}

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
