import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ACTION_ROUTES, ROUTE_KEYS } from '../../src/handlers';
import { METRICS } from '../../src/utils/metrics';
import { BUNDLE_OPTIONS, ENTRIES, EXTERNAL } from '../../scripts/bundle';
import { loadAuthConfig, loadConfig } from '../../src/config/config';
import { rawTemplate, Resolver, translate, type Node } from '../helpers/cfn';
import { allows } from '../helpers/iam';
import { itWith } from '../helpers/required-tool';

/**
 * template.yaml as AWS's toolchain sees it: translated by the real SAM translator (what
 * `sam build`/`sam deploy` and CloudFormation's AWS::Serverless transform run) from the raw
 * template with no extra flag, then resolved for concrete parameter values the way
 * CloudFormation resolves conditions and intrinsic functions.
 */

const translation = translate();
// A translator that is not installed skips (loudly; in CI it fails); a broken script always fails.
const translatedIt = itWith('missing' in translation ? translation.missing : undefined);

function translated(parameters: Record<string, string> = {}): { resolver: Resolver; resources: Record<string, Node> } {
  const result = Object.keys(parameters).length === 0 ? translation : translate(parameters);
  if (!('template' in result)) throw new Error(`the template did not translate: ${JSON.stringify(result)}`);
  const resolver = new Resolver(result.template, parameters);
  return { resolver, resources: resolver.resources() };
}

const ofType = (resources: Record<string, Node>, type: string): Array<[string, Node]> => Object.entries(resources).filter(([, r]) => r['Type'] === type);
const asList = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : ([] as T[]).concat(value));

/** Every statement of every role, resolved, with the role it belongs to. */
function statementsOf(resolver: Resolver, resources: Record<string, Node>): Array<{ role: string; statement: Node }> {
  return ofType(resources, 'AWS::IAM::Role').flatMap(([role, r]) =>
    asList(r['Properties']['Policies'] as Node[]).flatMap((policy) =>
      asList((resolver.resolve(policy['PolicyDocument']) as Node)['Statement'] as Node[]).map((statement) => ({ role, statement })),
    ),
  );
}

const functionRole = (resources: Record<string, Node>, fn: string): string => /^<(\w+)\.Arn>$/.exec(String(new Resolver({ Resources: {} }).resolve(resources[fn]!['Properties']['Role'])))?.[1] ?? '';

describe('template.yaml through the real SAM translator', () => {
  it('needs no transform but SAM’s, so no SAM CLI flag (such as --language-extensions) is needed', () => {
    expect(readFileSync('template.yaml', 'utf8')).not.toMatch(/Fn::ForEach|AWS::LanguageExtensions/);
  });

  it('finds the translator script where the tests run it', () => {
    expect(translation).not.toHaveProperty('broken');
  });

  translatedIt('translates from the raw template, as `sam build` and `sam deploy` hand it over', () => {
    expect(translation).not.toHaveProperty('refused');
    expect(translation).toHaveProperty('template.Resources.WebSocketApi');
  });

  translatedIt('declares a route for every route key the app serves, each on the function whose handler the bundle exports', () => {
    const { resolver, resources } = translated();
    const routes = ofType(resources, 'AWS::ApiGatewayV2::Route');
    expect(routes.map(([, r]) => r['Properties']['RouteKey'] as string).sort()).toEqual([...ROUTE_KEYS].sort());
    expect(Object.keys(ACTION_ROUTES).every((action) => routes.some(([, r]) => r['Properties']['RouteKey'] === action))).toBe(true);
    for (const [, route] of routes) {
      const integration = resources[/^integrations\/<(\w+)>$/.exec(String(resolver.resolve(route['Properties']['Target'])))?.[1] ?? ''];
      const fn = /functions\/<(\w+)\.Arn>\/invocations$/.exec(String(resolver.resolve(integration?.['Properties']['IntegrationUri'])))?.[1] ?? '';
      expect(resources[fn]?.['Properties']['Handler']).toBe('api.handler');
    }
    const api = ofType(resources, 'AWS::ApiGatewayV2::Api')[0]![1];
    expect(api['Properties']).toMatchObject({ ProtocolType: 'WEBSOCKET', RouteSelectionExpression: '$request.body.action' });
  });

  translatedIt('puts the authorizer on $connect only, with no identity source, so a token in ?token= or in Authorization reaches it', () => {
    const { resolver, resources } = translated();
    const authorized = ofType(resources, 'AWS::ApiGatewayV2::Route').filter(([, r]) => r['Properties']['AuthorizationType'] === 'CUSTOM');
    expect(authorized.map(([, r]) => r['Properties']['RouteKey'])).toEqual(['$connect']);
    const [[, authorizer]] = ofType(resources, 'AWS::ApiGatewayV2::Authorizer') as [[string, Node]];
    // With an identity source, API Gateway answers 401 itself when that one source is absent.
    expect(authorizer['Properties']).not.toHaveProperty('IdentitySource');
    expect(authorizer['Properties']['AuthorizerType']).toBe('REQUEST');
    const fn = /functions\/<(\w+)\.Arn>\/invocations$/.exec(String(resolver.resolve(authorizer['Properties']['AuthorizerUri'])))?.[1] ?? '';
    expect(resources[fn]?.['Properties']['Handler']).toBe('authorizer.authorizer');
    // What the authorizer reads: both sources (the emulator applies no identity-source check either).
    expect(readFileSync('src/auth/verify.ts', 'utf8')).toMatch(/export function tokenOf\([^)]*query[^)]*headers/i);
  });

  translatedIt('deploys every later change to the stage by itself (AutoDeploy), with no frozen Deployment resource', () => {
    const { resources } = translated();
    expect(ofType(resources, 'AWS::ApiGatewayV2::Deployment')).toEqual([]);
    const [[, stage]] = ofType(resources, 'AWS::ApiGatewayV2::Stage') as [[string, Node]];
    expect(stage['Properties']).toMatchObject({ AutoDeploy: true });
    expect(stage['Properties']).not.toHaveProperty('DeploymentId');
    const throttling = stage['Properties']['DefaultRouteSettings'] as Node;
    expect(throttling['ThrottlingBurstLimit']).toBeGreaterThanOrEqual(throttling['ThrottlingRateLimit']);
  });

  translatedIt('gives each function a role of its own with no managed policy at all', () => {
    const { resources } = translated();
    const roles = ofType(resources, 'AWS::IAM::Role');
    expect(roles.map(([name]) => name).sort()).toEqual(['ApiRole', 'AuthorizerRole', 'WorkerRole']);
    for (const [name, role] of roles) {
      expect({ name, managed: role['Properties']['ManagedPolicyArns'] ?? [] }).toEqual({ name, managed: [] });
      expect(role['Properties']['AssumeRolePolicyDocument']['Statement']).toEqual([{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }]);
    }
    expect(ofType(resources, 'AWS::IAM::ManagedPolicy')).toEqual([]);
    expect(ofType(resources, 'AWS::IAM::Policy')).toEqual([]);
    expect(Object.fromEntries(ofType(resources, 'AWS::Lambda::Function').map(([name]) => [name, functionRole(resources, name)]))).toEqual({
      ApiFunction: 'ApiRole',
      WorkerFunction: 'WorkerRole',
      AuthorizerFunction: 'AuthorizerRole',
    });
  });

  translatedIt('keeps attachments private: the route may only put (presign) under uploads/ and list and delete what conversations keep; the worker gets both, keeps (copies) and removes under kept/ only; TLS only; public access blocked; expiring; CORS only for the allowed origins', () => {
    const { resolver, resources } = translated();
    const statements = statementsOf(resolver, resources).filter(({ statement }) => asList(statement['Resource'] as string[]).some((r) => r.includes('AttachmentsBucket')));
    expect(statements.map(({ role, statement }) => [role, statement['Action'], statement['Resource']])).toEqual([
      ['ApiRole', 's3:PutObject', '<AttachmentsBucket.Arn>/uploads/*'],
      ['ApiRole', 's3:ListBucket', '<AttachmentsBucket.Arn>'],
      ['ApiRole', 's3:DeleteObject', '<AttachmentsBucket.Arn>/kept/*'],
      ['WorkerRole', 's3:GetObject', ['<AttachmentsBucket.Arn>/uploads/*', '<AttachmentsBucket.Arn>/kept/*']],
      ['WorkerRole', ['s3:PutObject', 's3:DeleteObject'], '<AttachmentsBucket.Arn>/kept/*'],
      ['WorkerRole', 's3:ListBucket', '<AttachmentsBucket.Arn>'],
    ]);
    // The route lists only what conversations keep.
    expect(statements.find(({ role, statement }) => role === 'ApiRole' && statement['Action'] === 's3:ListBucket')?.statement['Condition']).toEqual({ StringLike: { 's3:prefix': 'kept/*' } });
    const bucket = resources['AttachmentsBucket'] as { DeletionPolicy: string; Properties: Record<string, unknown> };
    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucket.Properties['PublicAccessBlockConfiguration']).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    const lifecycle = JSON.stringify(bucket.Properties['LifecycleConfiguration']);
    expect(lifecycle).toContain('"ExpirationInDays"');
    const policy = JSON.stringify((resources['AttachmentsBucketPolicy'] as { Properties: unknown }).Properties);
    expect(policy).toContain('"aws:SecureTransport":"false"');
    expect(policy).toContain('"Effect":"Deny"');
    expect(JSON.stringify(resources['UploadRoute'])).toContain('llm/upload');
  });

  translatedIt('grants no action on "*" but those named in docs/DEPLOYING.md: foundation models only through an allowed profile', () => {
    const { resolver, resources } = translated();
    const statements = statementsOf(resolver, resources);
    expect(statements.length).toBeGreaterThan(8);
    for (const { role, statement } of statements) {
      for (const resource of asList(statement['Resource'] as string[])) {
        if (!resource.includes('*')) continue;
        const allowed =
          (resource === 'arn:aws:bedrock:*::foundation-model/*' && statement['Condition']?.['StringLike']?.['bedrock:InferenceProfileArn'] !== undefined) ||
          resource === 'arn:aws:bedrock:us-east-1:123456789012:inference-profile/*' || // this account and region; models only through a listed one
          /^<\w+LogGroup\.Arn>$/.test(resource) || // `arn:…:log-group:NAME:*`: the streams of one group
          resource.endsWith('/POST/@connections/*') || // connection ids are not known in advance
          resource === '<AttachmentsBucket.Arn>/uploads/*' || // attachment keys are made per upload, under one prefix
          resource === '<AttachmentsBucket.Arn>/kept/*'; // and kept per conversation, under another
        expect({ role, sid: statement['Sid'], resource, allowed }).toEqual({ role, sid: statement['Sid'], resource, allowed: true });
      }
    }
  });

  translatedIt('lets each function write logs to its own log group only, which has a retention', () => {
    const { resolver, resources } = translated();
    const statements = statementsOf(resolver, resources);
    for (const [fn, role, group] of [['ApiFunction', 'ApiRole', 'ApiLogGroup'], ['WorkerFunction', 'WorkerRole', 'WorkerLogGroup'], ['AuthorizerFunction', 'AuthorizerRole', 'AuthorizerLogGroup']] as const) {
      const logs = statements.filter((s) => s.role === role && asList(s.statement['Action'] as string[]).some((a) => a.startsWith('logs:')));
      expect(logs.map((s) => [asList(s.statement['Action'] as string[]).sort(), s.statement['Resource']])).toEqual([[['logs:CreateLogStream', 'logs:PutLogEvents'], `<${group}.Arn>`]]);
      expect(resources[fn]!['Properties']['LoggingConfig']).toEqual({ LogGroup: { Ref: group } });
      expect(resources[group]!['Properties']['RetentionInDays']).toEqual({ Ref: 'LogRetentionDays' });
    }
  });

  translatedIt('wires the queue: the worker drains it (and only it) with partial batch failures and bounded concurrency, a DLQ catches the rest', () => {
    const { resolver, resources } = translated();
    const statements = statementsOf(resolver, resources);
    const queue = resources['JobQueue']!['Properties'] as Node;
    const worker = resources['WorkerFunction']!['Properties'] as Node;
    expect(resolver.resolve(queue['RedrivePolicy']['deadLetterTargetArn'])).toBe('<JobDeadLetterQueue.Arn>');
    expect(queue['VisibilityTimeout']).toBeGreaterThan(worker['Timeout']);
    const [[, mapping]] = ofType(resources, 'AWS::Lambda::EventSourceMapping') as [[string, Node]];
    // Several answers per invocation, with no batching window: a lone job starts at once.
    expect(resolver.resolve(mapping['Properties'])).toMatchObject({ EventSourceArn: '<JobQueue.Arn>', FunctionName: '<WorkerFunction>', FunctionResponseTypes: ['ReportBatchItemFailures'], ScalingConfig: { MaximumConcurrency: expect.any(String) }, BatchSize: 4, MaximumBatchingWindowInSeconds: 0 });
    expect(worker['Handler']).toBe('jobs.worker');
    const sqs = statements.filter((s) => asList(s.statement['Action'] as string[]).some((a) => a.startsWith('sqs:')));
    expect(sqs.map((s) => [s.role, asList(s.statement['Action'] as string[]).sort(), s.statement['Resource']])).toEqual([
      ['ApiRole', ['sqs:SendMessage'], '<JobQueue.Arn>'],
      ['WorkerRole', ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage'], '<JobQueue.Arn>'],
    ]);
    // The app reports a job that cannot start on the delivery the queue will dead-letter after.
    const env = resources['ApiFunction']!['Properties']['Environment']['Variables'] as Node;
    expect(env['QUEUE_MAX_RECEIVE_COUNT']).toBe(String(queue['RedrivePolicy']['maxReceiveCount']));
    expect(env['WORKER_TIMEOUT_MS']).toBe(String(worker['Timeout'] * 1000));
    expect(resources['WorkerFunction']!['Properties']['Environment']['Variables']).toEqual(env);
  });

  translatedIt('grants the route and worker roles exactly the DynamoDB actions the stores call, on the table only', () => {
    const { resolver, resources } = translated();
    const item: Record<string, string> = { Get: 'GetItem', Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', Query: 'Query' };
    const dir = 'src/stores/dynamodb';
    const used = new Set(
      readdirSync(dir).flatMap((file) => [...readFileSync(`${dir}/${file}`, 'utf8').matchAll(/new (Get|Put|Update|Delete|Query)Command\(/g)].map((m) => `dynamodb:${item[m[1]!]}`)),
    );
    for (const role of ['ApiRole', 'WorkerRole']) {
      const dynamo = statementsOf(resolver, resources).filter((s) => s.role === role && asList(s.statement['Action'] as string[]).some((a) => a.startsWith('dynamodb:')));
      expect({ role, granted: dynamo.flatMap((s) => asList(s.statement['Action'] as string[])).sort(), on: dynamo.map((s) => s.statement['Resource']) }).toEqual({
        role,
        granted: [...used].sort(),
        on: ['<ConnectionsTable.Arn>'],
      });
    }
    expect(statementsOf(resolver, resources).some((s) => s.role === 'AuthorizerRole' && asList(s.statement['Action'] as string[]).some((a) => !a.startsWith('logs:')))).toBe(false);
  });

  translatedIt('lets only the worker call Bedrock: the models behind a listed profile only through it, each on-demand model', () => {
    const parameters = { InferenceProfileIds: 'us.amazon.nova-lite-v1:0,eu.anthropic.claude-x:0,global.a.b:1', FoundationModelIds: 'amazon.titan-text-express-v1' };
    const { resolver, resources } = translated(parameters);
    const bedrock = statementsOf(resolver, resources).filter((s) => asList(s.statement['Action'] as string[]).some((a) => a.startsWith('bedrock:')));
    expect(new Set(bedrock.map((s) => s.role))).toEqual(new Set(['WorkerRole']));
    expect(bedrock.map((s) => s.statement)).toEqual([
      { Sid: 'InferenceProfiles', Effect: 'Allow', Action: 'bedrock:InvokeModelWithResponseStream', Resource: 'arn:aws:bedrock:us-east-1:123456789012:inference-profile/*' },
      {
        Sid: 'ModelsBehindProfiles',
        Effect: 'Allow',
        Action: 'bedrock:InvokeModelWithResponseStream',
        Resource: 'arn:aws:bedrock:*::foundation-model/*',
        Condition: { StringLike: { 'bedrock:InferenceProfileArn': ['*:inference-profile/us.amazon.nova-lite-v1:0', '*:inference-profile/eu.anthropic.claude-x:0', '*:inference-profile/global.a.b:1'] } },
      },
      { Sid: 'FoundationModels', Effect: 'Allow', Action: 'bedrock:InvokeModelWithResponseStream', Resource: ['arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-text-express-v1'] },
    ]);
    const env = resolver.resolve(resources['WorkerFunction']!['Properties']['Environment']['Variables']) as Node;
    expect(env['ALLOWED_MODEL_IDS']).toBe(`${parameters.InferenceProfileIds},${parameters.FoundationModelIds},`);
  });

  translatedIt('allows 1, 12 or 20 listed profiles, each model behind them only through one, and nothing through an unlisted one (IAM evaluation)', () => {
    for (const count of [1, 12, 20]) {
      const ids = Array.from({ length: count }, (_, i) => `${['us', 'eu', 'global'][i % 3]}.vendor.model-${i}:0`);
      const { resolver, resources } = translated({ InferenceProfileIds: ids.join(','), FoundationModelIds: 'amazon.titan-text-express-v1' });
      const worker = statementsOf(resolver, resources).filter((s) => s.role === 'WorkerRole').map((s) => s.statement);
      const invoke = 'bedrock:InvokeModelWithResponseStream';
      const profile = (id: string): string => `arn:aws:bedrock:us-east-1:123456789012:inference-profile/${id}`;
      for (const id of ids) {
        expect(allows(worker, invoke, profile(id))).toBe(true);
        // A cross-region profile routes to a model in another region: allowed through it.
        for (const region of ['us-east-1', 'us-west-2', 'eu-central-1']) {
          expect(allows(worker, invoke, `arn:aws:bedrock:${region}::foundation-model/vendor.model`, { 'bedrock:InferenceProfileArn': profile(id) })).toBe(true);
        }
      }
      expect(allows(worker, invoke, 'arn:aws:bedrock:us-east-1::foundation-model/vendor.model', { 'bedrock:InferenceProfileArn': profile('us.unlisted:0') })).toBe(false);
      expect(allows(worker, invoke, 'arn:aws:bedrock:us-east-1::foundation-model/vendor.model')).toBe(false);
      expect(allows(worker, invoke, 'arn:aws:bedrock:us-east-1:999999999999:inference-profile/x')).toBe(false);
      expect(allows(worker, invoke, 'arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-text-express-v1')).toBe(true);
      expect(allows(worker, 'bedrock:InvokeModel', profile(ids[0]!))).toBe(false);
      // One inline policy, far under IAM's 10,240 characters for a role's inline policies.
      expect(resources['WorkerRole']!['Properties']['Policies']).toHaveLength(1);
      expect(JSON.stringify(resolver.resolve(resources['WorkerRole']!['Properties']['Policies'])).length).toBeLessThan(6000);
    }
  });

  translatedIt('serves OpenAI-compatible models next to Bedrock: routed by MODEL_PROVIDERS, the key readable by the worker alone', () => {
    const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:openai-AbCdEf';
    const parameters = { OpenAiModelIds: 'gpt-4o-mini,llama3.1', OpenAiApiKeySecretArn: ARN, ModelFallbacks: 'us.amazon.nova-lite-v1:0=gpt-4o-mini' };
    const { resolver, resources } = translated(parameters);
    const env = resolver.resolve(resources['WorkerFunction']!['Properties']['Environment']['Variables']) as Record<string, string>;
    expect(env).toMatchObject({ MODEL_PROVIDERS: 'gpt-4o-mini=openai,llama3.1=openai', OPENAI_API_KEY_SECRET_ARN: ARN, OPENAI_BASE_URL: 'https://api.openai.com/v1', MODEL_FALLBACKS: parameters.ModelFallbacks });
    expect(env).not.toHaveProperty('OPENAI_API_KEY');
    // The environment the template writes is one the app's config accepts, routing as asked.
    const config = loadConfig({ ...env, CONNECTIONS_TABLE: 'table', MANAGEMENT_API_ENDPOINT: 'https://a.example/prod', JOB_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/1/q' });
    expect(config.providers.byModel).toMatchObject({ 'us.amazon.nova-lite-v1:0': 'bedrock', 'gpt-4o-mini': 'openai', 'llama3.1': 'openai' });
    const secrets = statementsOf(resolver, resources).filter((s) => asList(s.statement['Action'] as string[]).some((a) => a.startsWith('secretsmanager:')));
    expect(secrets.map((s) => [s.role, s.statement['Action'], s.statement['Resource']])).toEqual([['WorkerRole', 'secretsmanager:GetSecretValue', ARN]]);
    const without = translated();
    const plain = without.resolver.resolve(without.resources['WorkerFunction']!['Properties']['Environment']['Variables']) as Record<string, string>;
    expect(plain).not.toHaveProperty('MODEL_PROVIDERS');
    expect(plain).not.toHaveProperty('OPENAI_API_KEY_SECRET_ARN');
    expect(statementsOf(without.resolver, without.resources).some((s) => asList(s.statement['Action'] as string[]).some((a) => a.startsWith('secretsmanager:')))).toBe(false);
  });

  translatedIt('takes any number of profiles, caps on-demand models at six (their ARNs need the partition), and writes no Bedrock grant for none', () => {
    const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}:0`).join(',');
    const full = translated({ InferenceProfileIds: ids('us.model-', 6), FoundationModelIds: ids('vendor.model-', 6) });
    const statements = statementsOf(full.resolver, full.resources).filter((s) => s.role === 'WorkerRole');
    expect(statements.find((s) => s.statement['Sid'] === 'FoundationModels')?.statement['Resource']).toHaveLength(6);
    const none = translated({ InferenceProfileIds: '', FoundationModelIds: '' });
    expect(statementsOf(none.resolver, none.resources).filter((s) => asList(s.statement['Action'] as string[]).some((a) => a.startsWith('bedrock:')))).toEqual([]);
    const parameters = (full.resolver as unknown as { template: Node }).template['Parameters'] as Node;
    const profiles = new RegExp(String(parameters['InferenceProfileIds']['AllowedPattern']));
    expect(profiles.test(ids('us.m-', 40))).toBe(true);
    expect(profiles.test('us.a:0, us.b:0')).toBe(false);
    const models = new RegExp(String(parameters['FoundationModelIds']['AllowedPattern']));
    expect(models.test(ids('vendor.m-', 6))).toBe(true);
    expect(models.test(ids('vendor.m-', 7))).toBe(false);
  });

  translatedIt('lets the worker decrypt a secret under a customer-managed KMS key, through Secrets Manager only, and nothing without one', () => {
    const SECRET = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:openai-AbCdEf';
    const KEY = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const on = translated({ OpenAiModelIds: 'gpt-4o-mini', OpenAiApiKeySecretArn: SECRET, SecretsKmsKeyArn: KEY });
    const worker = statementsOf(on.resolver, on.resources).filter((s) => s.role === 'WorkerRole').map((s) => s.statement);
    const via = { 'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com' };
    expect(allows(worker, 'kms:Decrypt', KEY, via)).toBe(true);
    expect(allows(worker, 'kms:Decrypt', KEY)).toBe(false);
    expect(allows(worker, 'kms:Decrypt', KEY, { 'kms:ViaService': 's3.us-east-1.amazonaws.com' })).toBe(false);
    const others = statementsOf(on.resolver, on.resources).filter((s) => s.role !== 'WorkerRole').map((s) => s.statement);
    expect(allows(others, 'kms:Decrypt', KEY, via)).toBe(false);
    const off = translated({ OpenAiModelIds: 'gpt-4o-mini', OpenAiApiKeySecretArn: SECRET });
    expect(statementsOf(off.resolver, off.resources).some((s) => asList(s.statement['Action'] as string[]).some((a) => a.startsWith('kms:')))).toBe(false);
    const rules = (on.resolver as unknown as { template: Node }).template;
    expect(new Resolver(rules, { AuthJwksUrl: 'https://x.example/jwks', SecretsKmsKeyArn: KEY }).refusals()).toEqual([expect.stringMatching(/give that secret too/)]);
  });

  translatedIt('gives the authorizer the ARN of its HS256 secret, never the key, and the right to read that secret only', () => {
    const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:jwt-AbCdEf';
    const KEY = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const { resolver, resources } = translated({ AuthJwtSecretArn: ARN, SecretsKmsKeyArn: KEY, AuthJwtSecretTtlSeconds: '120' });
    const env = resolver.resolve(resources['AuthorizerFunction']!['Properties']['Environment']['Variables']) as Record<string, string>;
    expect(env).toMatchObject({ AUTH_JWT_SECRET_ARN: ARN, AUTH_JWT_SECRET_TTL_SECONDS: '120' });
    expect(env).not.toHaveProperty('AUTH_JWT_SECRET');
    expect(JSON.stringify(resources['AuthorizerFunction'])).not.toMatch(/resolve:secretsmanager/);
    // The environment the template writes is one the authorizer's config accepts.
    expect(loadAuthConfig(env).auth).toMatchObject({ mode: 'hs256', jwtSecretArn: ARN, jwtSecretTtlSeconds: 120 });
    const statements = statementsOf(resolver, resources);
    const authorizer = statements.filter((s) => s.role === 'AuthorizerRole').map((s) => s.statement);
    expect(allows(authorizer, 'secretsmanager:GetSecretValue', ARN)).toBe(true);
    expect(allows(authorizer, 'secretsmanager:GetSecretValue', 'arn:aws:secretsmanager:us-east-1:123456789012:secret:other-AbCdEf')).toBe(false);
    expect(allows(authorizer, 'kms:Decrypt', KEY, { 'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com' })).toBe(true);
    expect(allows(authorizer, 'kms:Decrypt', KEY)).toBe(false);
    const others = statements.filter((s) => s.role !== 'AuthorizerRole').map((s) => s.statement);
    expect(allows(others, 'secretsmanager:GetSecretValue', ARN)).toBe(false);
    const jwks = translated({ AuthJwksUrl: 'https://x.example/jwks' });
    expect(statementsOf(jwks.resolver, jwks.resources).filter((s) => s.role === 'AuthorizerRole').map((s) => s.statement['Sid'])).toEqual(['Logs']);
  });

  it('describes every parameter, and asks first for the two auth keys, each saying that one of them is required', () => {
    // `sam deploy --guided` asks every parameter in the template's order, showing only its name and
    // default; the descriptions are what the CloudFormation console and get-template-summary show.
    const parameters = rawTemplate()['Parameters'] as Record<string, Node>;
    for (const [name, p] of Object.entries(parameters)) expect({ name, described: typeof p['Description'] === 'string' && p['Description'].trim().length > 20 }).toEqual({ name, described: true });
    expect(Object.keys(parameters).slice(0, 2)).toEqual(['AuthJwksUrl', 'AuthJwtSecretArn']);
    expect(parameters['AuthJwksUrl']!['Description']).toMatch(/^REQUIRED - give this or AuthJwtSecretArn/);
    expect(parameters['AuthJwtSecretArn']!['Description']).toMatch(/^REQUIRED - give this or AuthJwksUrl/);
    // A value that is no URL is refused by its pattern, before the authorizer would refuse every token.
    const jwks = new RegExp(String(parameters['AuthJwksUrl']!['AllowedPattern']));
    expect(['', 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc/.well-known/jwks.json'].every((v) => jwks.test(v))).toBe(true);
    expect(['yes', 'us-east-1_abc', 'https://a b'].some((v) => jwks.test(v))).toBe(false);
  });

  translatedIt('refuses half-given settings at deploy time with what to give (the template\'s Rules, evaluated)', () => {
    const { resolver } = translated();
    const rules = (resolver as unknown as { template: Node }).template;
    const refusals = (parameters: Record<string, string>): string[] => new Resolver(rules, parameters).refusals();
    const JWKS = { AuthJwksUrl: 'https://cognito-idp.us-east-1.amazonaws.com/pool/.well-known/jwks.json' };
    const SECRET = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:openai-AbCdEf';
    const good: Array<Record<string, string>> = [
      JWKS,
      { ...JWKS, AuthIssuer: 'https://cognito-idp.us-east-1.amazonaws.com/pool', AuthAudience: 'client' },
      { AuthJwksUrl: '', AuthJwtSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:jwt-AbCdEf' },
      { AuthJwtSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:jwt-AbCdEf' },
      { ...JWKS, DomainName: 'ws.example.com', CertificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/x' },
      { ...JWKS, DomainName: 'ws.example.com', CertificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/x', HostedZoneId: 'Z123' },
      { ...JWKS, OpenAiModelIds: 'gpt-4o-mini', OpenAiApiKeySecretArn: SECRET },
      { ...JWKS, LlmProvider: 'openai', OpenAiApiKeySecretArn: SECRET },
    ];
    for (const parameters of good) expect({ parameters, refusals: refusals(parameters) }).toEqual({ parameters, refusals: [] });
    const bad: Array<[Record<string, string>, RegExp]> = [
      [{}, /Give AuthJwksUrl .* or AuthJwtSecretArn .* e\.g\. sam deploy --parameter-overrides AuthJwtSecretArn=arn:/],
      // What `sam deploy --guided` sends when both prompts are answered with Enter.
      [{ AuthJwksUrl: '', AuthJwtSecretArn: '' }, /Give AuthJwksUrl .* or AuthJwtSecretArn/],
      // The optional auth settings are no key.
      [{ AuthIssuer: 'https://issuer.example', AuthAudience: 'app', AuthJwtSecretTtlSeconds: '60' }, /Give AuthJwksUrl .* or AuthJwtSecretArn/],
      [{ DomainName: 'ws.example.com', CertificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/x' }, /Give AuthJwksUrl .* or AuthJwtSecretArn/],
      [{ ...JWKS, AuthJwtSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:jwt-AbCdEf' }, /not both/],
      [{ ...JWKS, DomainName: 'ws.example.com' }, /DomainName needs CertificateArn/],
      [{ ...JWKS, CertificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/x' }, /CertificateArn is used only with DomainName/],
      [{ ...JWKS, HostedZoneId: 'Z123' }, /HostedZoneId is used only with DomainName and CertificateArn/],
      [{ ...JWKS, OpenAiModelIds: 'gpt-4o-mini' }, /need OpenAiApiKeySecretArn/],
      [{ ...JWKS, LlmProvider: 'openai' }, /need OpenAiApiKeySecretArn/],
    ];
    for (const [parameters, message] of bad) {
      const refused = refusals(parameters);
      expect({ parameters, refused: refused.length }).toEqual({ parameters, refused: 1 });
      expect(refused[0]).toMatch(message);
    }
    // A partial secret ARN (no six-character suffix) deploys, then IAM never matches it: refused by its pattern.
    const pattern = new RegExp(String((rules['Parameters'] as Node)['OpenAiApiKeySecretArn']['AllowedPattern']));
    expect(pattern.test(SECRET)).toBe(true);
    expect(pattern.test('arn:aws:secretsmanager:us-east-1:123456789012:secret:openai')).toBe(false);
  });

  translatedIt('writes stage access logs only when asked: one JSON line per event to a log group of their own, with a retention', () => {
    const off = translated();
    expect(off.resolver.resolve(off.resources['Stage']!['Properties'])).not.toHaveProperty('AccessLogSettings');
    expect(ofType(off.resources, 'AWS::Logs::LogGroup').map(([name]) => name)).not.toContain('AccessLogGroup');
    const on = translated({ EnableAccessLogs: 'true', LogRetentionDays: '14' });
    const settings = on.resolver.resolve(on.resources['Stage']!['Properties']['AccessLogSettings']) as Node;
    expect(settings['DestinationArn']).toBe('<AccessLogGroup.Arn>');
    const line = JSON.parse(String(settings['Format'])) as Record<string, string>;
    expect(line).toMatchObject({
      connectionId: '$context.connectionId',
      eventType: '$context.eventType',
      routeKey: '$context.routeKey',
      status: '$context.status',
      authorizerError: '$context.authorizer.error',
      integrationError: '$context.integration.error',
    });
    const group = on.resolver.resolve(on.resources['AccessLogGroup']!['Properties']) as Node;
    expect(group).toMatchObject({ RetentionInDays: '14' });
    expect(on.resources['AccessLogGroup']!['DeletionPolicy']).toBe('Retain');
  });

  translatedIt('lets API Gateway invoke the route function from this stage only', () => {
    const { resolver, resources } = translated();
    const permission = resolver.resolve(resources['ApiFunctionPermission']!['Properties']) as Node;
    expect(permission['SourceArn']).toBe('arn:aws:execute-api:us-east-1:123456789012:<WebSocketApi>/prod/*');
  });

  translatedIt('retains the table, the queues and the log groups when the stack is deleted or they are replaced', () => {
    const { resources } = translated();
    for (const name of ['ConnectionsTable', 'JobQueue', 'JobDeadLetterQueue', 'ApiLogGroup', 'WorkerLogGroup', 'AuthorizerLogGroup']) {
      expect({ name, deletion: resources[name]!['DeletionPolicy'], replace: resources[name]!['UpdateReplacePolicy'] }).toEqual({ name, deletion: 'Retain', replace: 'Retain' });
    }
    expect(resources['ConnectionsTable']!['Properties']).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
    });
  });

  translatedIt('builds endpoints from the partition’s URL suffix, never a hard-coded amazonaws.com', () => {
    const { resolver, resources } = translated();
    // Service principals (lambda.amazonaws.com, apigateway.amazonaws.com) are names, the same in every partition.
    const raw = readFileSync('template.yaml', 'utf8').replace(/(Service|Principal): (lambda|apigateway)\.amazonaws\.com/g, '');
    expect(raw).not.toMatch(/amazonaws\.com/);
    const env = resolver.resolve(resources['ApiFunction']!['Properties']['Environment']['Variables']) as Node;
    expect(env['MANAGEMENT_API_ENDPOINT']).toBe('https://<WebSocketApi>.execute-api.us-east-1.amazonaws.com/prod');
  });

  translatedIt('makes source maps and sets --enable-source-maps only with EnableSourceMaps=true, in what `sam build` builds, prints and writes, for every function, once', () => {
    // SAM CLI's esbuild pre- and post-processing (scripts/sam-build-sourcemaps.py), for the value
    // given to `sam build`, then the translator, for the same value given to the deploy.
    const dir = mkdtempSync(join(tmpdir(), 'sam-build-'));
    try {
      for (const [value, maps] of [['false', false], ['true', true]] as const) {
        const built = spawnSync('python3', ['scripts/sam-build-sourcemaps.py', 'template.yaml', `EnableSourceMaps=${value}`], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
        expect(built.stderr).toBe('');
        const { template, sourcemaps, messages } = JSON.parse(built.stdout) as { template: Node; sourcemaps: Record<string, boolean>; messages: string[] };
        // Whether esbuild writes the .map files that go into each function's zip.
        expect({ value, sourcemaps }).toEqual({ value, sourcemaps: { ApiFunction: maps, WorkerFunction: maps, AuthorizerFunction: maps } });
        // What `sam build` prints: nothing about source maps unless they are made, then that it makes them.
        expect({ value, messages }).toEqual({
          value,
          messages: maps
            ? [
                ...['ApiFunction', 'WorkerFunction', 'AuthorizerFunction'].map((fn) => `--enable-source-maps set without Sourcemap, adding Sourcemap to Metadata BuildProperties for ${fn}`),
                expect.stringMatching(/^You are using source maps/),
              ]
            : [],
        });
        const path = join(dir, `template-${value}.json`);
        writeFileSync(path, JSON.stringify(template));
        const result = translate({ EnableSourceMaps: value }, path);
        if (!('template' in result)) throw new Error(`the built template did not translate: ${JSON.stringify(result)}`);
        const resolver = new Resolver(result.template, { EnableSourceMaps: value });
        const functions = ofType(resolver.resources(), 'AWS::Lambda::Function');
        expect(functions.map(([name]) => name).sort()).toEqual(['ApiFunction', 'AuthorizerFunction', 'WorkerFunction']);
        for (const [name, fn] of functions) {
          const options = String((resolver.resolve(fn['Properties']['Environment']['Variables']) as Node)['NODE_OPTIONS'] ?? '');
          expect({ value, name, NODE_OPTIONS: options.split(' ').filter(Boolean) }).toEqual({ value, name, NODE_OPTIONS: maps ? ['--enable-source-maps'] : [] });
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  translatedIt('creates the custom domain, its mapping and its DNS record only when their parameters are given', () => {
    const kinds = (resources: Record<string, Node>) => ['AWS::ApiGatewayV2::DomainName', 'AWS::ApiGatewayV2::ApiMapping', 'AWS::Route53::RecordSet'].map((t) => ofType(resources, t).length);
    expect(kinds(translated().resources)).toEqual([0, 0, 0]);
    expect(kinds(translated({ DomainName: 'ws.example.com' }).resources)).toEqual([0, 0, 0]);
    const certificate = 'arn:aws:acm:us-east-1:123456789012:certificate/abc';
    const domain = translated({ DomainName: 'ws.example.com', CertificateArn: certificate });
    expect(kinds(domain.resources)).toEqual([1, 1, 0]);
    expect(domain.resolver.resolve(domain.resources['CustomDomainMapping']!['Properties'])).toEqual({ ApiId: '<WebSocketApi>', DomainName: '<CustomDomain>', Stage: '<Stage>' });
    expect(domain.resolver.resolve(domain.resources['CustomDomain']!['Properties'])).toEqual({
      DomainName: 'ws.example.com',
      DomainNameConfigurations: [{ CertificateArn: certificate, EndpointType: 'REGIONAL', SecurityPolicy: 'TLS_1_2' }],
    });
    const dns = translated({ DomainName: 'ws.example.com', CertificateArn: certificate, HostedZoneId: 'Z123' });
    expect(kinds(dns.resources)).toEqual([1, 1, 1]);
    expect(dns.resolver.resolve(dns.resources['CustomDomainRecord']!['Properties'])).toMatchObject({ Name: 'ws.example.com', Type: 'A', AliasTarget: { DNSName: '<CustomDomain.RegionalDomainName>' } });
    const outputs = (dns.resolver as unknown as { template: Node }).template['Outputs'] as Node;
    expect(dns.resolver.resolve(outputs['CustomDomainUrl']['Value'])).toBe('wss://ws.example.com');
    expect(outputs['CustomDomainUrl']['Condition']).toBe('HasCustomDomain');
  });

  translatedIt('puts every metric the app emits on the dashboard, and no metric name the app does not emit', () => {
    const { resolver, resources } = translated();
    const body = JSON.parse(String(resolver.resolve(resources['Dashboard']!['Properties']['DashboardBody']))) as { widgets: Array<{ properties: { metrics: unknown[][] } }> };
    const ours = new Set<string>();
    for (const widget of body.widgets) {
      for (const line of widget.properties.metrics) {
        if (line[0] === 'WsLlmGateway') ours.add(String(line[1]));
        const expression = (line[0] as { expression?: string }).expression;
        for (const m of expression?.matchAll(/\{WsLlmGateway[^}]*\} MetricName="(\w+)"/g) ?? []) ours.add(m[1]!);
      }
    }
    expect([...ours].sort()).toEqual(Object.values(METRICS).sort());
    // Every dimension set used is one the app writes: `service`, plus `code` on Errors.
    expect(JSON.stringify(body)).toContain('"service","stack"');
  });

  translatedIt('raises alarms on dead letters, worker errors, queue age and throttles, notifying the topic when given', () => {
    const withTopic = translated({ AlarmTopicArn: 'arn:aws:sns:us-east-1:123456789012:ops' });
    const alarms = ofType(withTopic.resources, 'AWS::CloudWatch::Alarm').map(([, a]) => withTopic.resolver.resolve(a['Properties']) as Node);
    const watched = alarms.map((a) => `${a['Namespace']} ${a['MetricName']} ${a['Dimensions'][0]['Value']}`).sort();
    expect(watched).toEqual([
      'AWS/Lambda Errors <WorkerFunction>',
      'AWS/Lambda Throttles <ApiFunction>',
      'AWS/Lambda Throttles <WorkerFunction>',
      'AWS/SQS ApproximateAgeOfOldestMessage <JobQueue.QueueName>',
      'AWS/SQS ApproximateNumberOfMessagesVisible <JobDeadLetterQueue.QueueName>',
    ]);
    for (const alarm of alarms) expect(alarm['AlarmActions']).toEqual(['arn:aws:sns:us-east-1:123456789012:ops']);
    const without = translated();
    for (const [, a] of ofType(without.resources, 'AWS::CloudWatch::Alarm')) expect(without.resolver.resolve(a['Properties'])).not.toHaveProperty('AlarmActions');
  });

  translatedIt('builds every function with esbuild for nodejs24.x on arm64, from the entry whose export it names, with the bundle test’s target', () => {
    const { resources } = translated();
    // nodejs22.x leaves standard support on 30 April 2027; SAM CLI builds nodejs24.x since 1.147.
    for (const [name, f] of ofType(resources, 'AWS::Lambda::Function')) {
      expect({ name, runtime: f['Properties']['Runtime'], arch: f['Properties']['Architectures'] }).toEqual({ name, runtime: 'nodejs24.x', arch: ['arm64'] });
    }
    const raw = translateRaw();
    for (const [name, f] of Object.entries(raw).filter(([, r]) => r['Type'] === 'AWS::Serverless::Function')) {
      expect(f['Metadata']['BuildMethod']).toBe('esbuild');
      const [file, exported] = (f['Properties']['Handler'] as string).split('.') as [string, string];
      const entries = f['Metadata']['BuildProperties']['EntryPoints'] as string[];
      const entry = entries.find((e) => e.endsWith(`/${file}.ts`));
      // One entry per function, the very file scripts/bundle.ts builds for it.
      expect({ name, entries }).toEqual({ name, entries: [Object.values(ENTRIES).find((e) => e.endsWith(`/${file}.ts`))] });
      expect(readFileSync(entry!, 'utf8')).toMatch(new RegExp(`export const ${exported}\\b`));
      // The packages left out are those the bundle test's bundles leave out (and run without).
      expect({ name, external: f['Metadata']['BuildProperties']['External'] }).toEqual({ name, external: EXTERNAL });
      // And the target is theirs: what the bundle test runs on this machine's Node is what SAM ships.
      expect({ name, target: f['Metadata']['BuildProperties']['Target'] }).toEqual({ name, target: BUNDLE_OPTIONS.target });
      // As do the package builds it picks and the comments it keeps: SAM passes each property to esbuild as its flag.
      const props = f['Metadata']['BuildProperties'];
      expect({ name, mainFields: String(props['MainFields']).split(','), legal: props['LegalComments'] }).toEqual({ name, mainFields: BUNDLE_OPTIONS.mainFields, legal: BUNDLE_OPTIONS.legalComments });
    }
  });

  translatedIt('outputs the wss URL, the management endpoint, the dashboard, the table and the queues', () => {
    const { resolver } = translated();
    const outputs = (resolver as unknown as { template: Node }).template['Outputs'] as Node;
    expect(Object.keys(outputs).sort()).toEqual(
      ['ConnectionsTableName', 'CustomDomainHostedZoneId', 'CustomDomainTarget', 'CustomDomainUrl', 'DashboardUrl', 'JobDeadLetterQueueUrl', 'JobQueueUrl', 'ManagementEndpoint', 'WebSocketUrl'],
    );
    expect(resolver.resolve(outputs['WebSocketUrl']['Value'])).toBe('wss://<WebSocketApi>.execute-api.us-east-1.amazonaws.com/prod');
  });

  const cfnLint = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
  const lintIt = itWith(cfnLint.status === 0 ? undefined : 'cfn-lint is not installed or not on PATH (pip install cfn-lint)');
  lintIt('passes cfn-lint with informational checks on', () => {
    const result = spawnSync('cfn-lint', ['--include-checks', 'I', '--', 'template.yaml'], { encoding: 'utf8' });
    expect(`${result.stdout}${result.stderr}`).toBe('');
    expect(result.status).toBe(0);
  });
});

/** The SAM resources before translation (their build Metadata is what `sam build` reads). */
function translateRaw(): Record<string, Node> {
  const run = spawnSync('python3', ['-c', 'import json,sys;from cfnlint.decode import cfn_yaml;print(json.dumps(cfn_yaml.loads(open("template.yaml").read(),"template.yaml")["Resources"],default=str))'], { encoding: 'utf8' });
  return JSON.parse(run.stdout) as Record<string, Node>;
}
