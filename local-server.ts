/**
 * `npm run local`: the API Gateway WebSocket emulator in front of the very handler Lambda runs,
 * on the in-memory store and the mock model, with no AWS account. See README "Local emulator".
 */
import { ConfigError } from './src/config/env';
import { loadLocalServerConfig } from './src/config/local';
import { startDynalite } from './src/local/dynalite';
import { startLocalGateway } from './src/local/emulator';
import { ensureExampleBuilt } from './scripts/example-app';

/** A base URL without the user:password it may carry. */
function endpointOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
}

async function main(): Promise<void> {
  const server = loadLocalServerConfig(process.env);
  // --dynalite: run the real DynamoDB persistence path against an in-process DynamoDB emulator.
  const dynamo = process.argv.includes('--dynalite') ? await startDynalite() : undefined;
  const env = dynamo ? { ...process.env, DYNAMODB_ENDPOINT: dynamo.endpoint } : process.env;
  const local = await startLocalGateway({ server, env });
  const { config } = local.gateway.deps;
  const lines = [
    '',
    '  LLM WebSocket gateway, local API Gateway emulator',
    `  WebSocket   ${local.url}`,
    `  Chat page   ${local.pageUrl}`,
    `  React       ${local.pageUrl}react/ (useChat) and ${local.pageUrl}react/assistant-ui.html`,
    `  @connections ${local.managementEndpoint}/@connections/{connectionId}`,
    `  Models      ${config.allowedModelIds.map((id) => `${id} (${config.providers.byModel[id] ?? config.llmProvider})`).join(', ')}`,
    ...(Object.values(config.providers.byModel).includes('openai') ? [`  OpenAI API  ${endpointOf(config.providers.openai.baseUrl)}`] : []),
    `  Queue       in-process SQS at ${local.queue.url} (worker: ${server.queue.maxInvocations} invocations × ${server.queue.batchSize} records = up to ${server.queue.maxInvocations * server.queue.batchSize} answers at once)`,
    `  Store       ${config.store.kind}${config.store.kind === 'dynamodb' ? ` (table ${config.store.tableName} at ${config.store.endpoint ?? 'AWS'})` : ''}`,
    '  Stop with Ctrl+C.',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  void ensureExampleBuilt().then((outcome) => {
    if (outcome === 'failed') process.stdout.write('  !!! The React example could not be built: run `npm run build:examples` to see why.\n');
  });
  // The model's own start-up check (e.g. Bedrock without credentials): say it now, not on the first answer.
  const modelProblem = await local.gateway.deps.model.preflight?.();
  if (modelProblem !== undefined) process.stdout.write(`  !!! MODEL WILL FAIL: ${modelProblem}\n\n`);
  if (config.auth.mode === 'none') {
    process.stdout.write(
      '  !!! AUTH IS OFF: anyone who can reach this port can connect and use the model.\n' +
        '  !!! Set AUTH_JWT_SECRET (then `npm run token`) or AUTH_JWKS_URL to require a JWT.\n\n',
    );
  } else {
    process.stdout.write(`  Auth        ${config.auth.mode} JWT required on connect (?token=… or Authorization: Bearer)\n\n`);
  }

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${signal}: closing connections ($disconnect for each) …\n`);
    local
      .stop()
      .then(() => dynamo?.stop())
      .then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`shutdown failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(error instanceof ConfigError ? `${error.message}\n` : `${String(error)}\n`);
  process.exit(1);
});
