import { readdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { parse, type Tags } from 'yaml';
import { ACTION_ROUTES, ROUTE_KEYS } from '../../src/handlers';

type Node = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** CloudFormation's short-form intrinsic functions, as plain `{ Fn: value }` objects. */
const FUNCTIONS = ['Ref', 'Sub', 'GetAtt', 'Join', 'Split', 'Select', 'If', 'Equals', 'Not', 'And', 'Or', 'FindInMap', 'ImportValue', 'GetAZs', 'Base64', 'Cidr'];
const customTags: Tags = FUNCTIONS.flatMap((name) => {
  const key = name === 'Ref' ? 'Ref' : `Fn::${name}`;
  return [
    { tag: `!${name}`, resolve: (value: unknown) => ({ [key]: value }) },
    { tag: `!${name}`, collection: 'seq' as const, resolve: (value: { toJSON(): unknown }) => ({ [key]: value.toJSON() }) },
  ];
});

const template = parse(readFileSync('template.yaml', 'utf8'), { customTags }) as Node;
const resources = template['Resources'] as Record<string, Node>;
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r['Type'] === type);
const fn = (name: string): Node => resources[name] as Node;
const getAtt = (value: Node): string => ([] as string[]).concat(value['Fn::GetAtt']).join('.');

/** Every IAM statement of the template: functions' inline policies and the per-model managed policies. */
function statements(): Array<{ owner: string; statement: Node }> {
  const inline = ofType('AWS::Serverless::Function').flatMap(([owner, f]) =>
    ((f['Properties']['Policies'] ?? []) as Node[]).flatMap((policy) => ((policy['Statement'] ?? []) as Node[]).map((statement) => ({ owner, statement }))),
  );
  const forEach = resources['Fn::ForEach::BedrockAccess'] as unknown as [string, Node, Record<string, Node>];
  const managed = Object.values(forEach[2]).flatMap((policy) =>
    (policy['Properties']['PolicyDocument']['Statement'] as Node[]).map((statement) => ({
      owner: (policy['Properties']['Roles'] as Node[])[0]!['Ref'] as string,
      statement,
    })),
  );
  return [...inline, ...managed];
}

describe('template.yaml', () => {
  it('declares a route for every route key the app serves, and no other', () => {
    const routeKeys = ofType('AWS::ApiGatewayV2::Route').map(([, r]) => r['Properties']['RouteKey'] as string);
    expect(routeKeys.sort()).toEqual([...ROUTE_KEYS].sort());
    expect(Object.keys(ACTION_ROUTES).every((action) => routeKeys.includes(action))).toBe(true);
  });

  it('routes on $request.body.action', () => {
    const [[, api]] = ofType('AWS::ApiGatewayV2::Api') as [[string, Node]];
    expect(api['Properties']).toMatchObject({ ProtocolType: 'WEBSOCKET', RouteSelectionExpression: '$request.body.action' });
  });

  it('sends every route to an integration of an existing function whose handler the bundle exports', () => {
    for (const [name, route] of ofType('AWS::ApiGatewayV2::Route')) {
      const target = route['Properties']['Target']['Fn::Sub'] as string;
      const integrationName = /^integrations\/\$\{(\w+)\}$/.exec(target)?.[1];
      const integration = resources[integrationName ?? ''];
      expect({ name, type: integration?.['Type'] }).toEqual({ name, type: 'AWS::ApiGatewayV2::Integration' });
      const uri = integration!['Properties']['IntegrationUri']['Fn::Sub'] as string;
      const backing = resources[/functions\/\$\{(\w+)\.Arn\}/.exec(uri)?.[1] ?? ''];
      expect(backing?.['Type']).toBe('AWS::Serverless::Function');
      expect(backing!['Properties']['Handler']).toBe('index.handler');
    }
  });

  it('puts the authorizer on $connect only, backed by the exported authorizer entry', () => {
    const authorized = ofType('AWS::ApiGatewayV2::Route').filter(([, r]) => r['Properties']['AuthorizationType'] === 'CUSTOM');
    expect(authorized.map(([, r]) => r['Properties']['RouteKey'])).toEqual(['$connect']);
    const [[, authorizer]] = ofType('AWS::ApiGatewayV2::Authorizer') as [[string, Node]];
    expect(authorizer['Properties']).toMatchObject({ AuthorizerType: 'REQUEST', IdentitySource: ['route.request.querystring.token'] });
    const fnName = /functions\/\$\{(\w+)\.Arn\}/.exec(authorizer['Properties']['AuthorizerUri']['Fn::Sub'] as string)?.[1];
    expect(resources[fnName ?? '']?.['Properties']['Handler']).toBe('authorizer.authorizer');
  });

  it('points every function at an export of the entry file it is built from', () => {
    for (const [name, f] of ofType('AWS::Serverless::Function')) {
      const [file, exported] = (f['Properties']['Handler'] as string).split('.') as [string, string];
      const entries = f['Metadata']['BuildProperties']['EntryPoints'] as string[];
      const entry = entries.find((e) => e.endsWith(`/${file}.ts`));
      expect({ name, entry }).toEqual({ name, entry: `src/${file}.ts` });
      expect(readFileSync(entry!, 'utf8')).toMatch(new RegExp(`export const ${exported}\\b`));
    }
  });

  it('wires the queue: the worker drains it with partial batch failures and bounded concurrency, a DLQ catches the rest', () => {
    const queue = fn('JobQueue')['Properties'] as Node;
    const worker = fn('WorkerFunction')['Properties'] as Node;
    expect(getAtt(queue['RedrivePolicy']['deadLetterTargetArn'])).toBe('JobDeadLetterQueue.Arn');
    expect(fn('JobDeadLetterQueue')['Type']).toBe('AWS::SQS::Queue');
    // A job in flight stays hidden longer than a worker can run, so no second worker gets it.
    expect(queue['VisibilityTimeout']).toBeGreaterThan(worker['Timeout']);
    const [event] = Object.values(worker['Events'] as Record<string, Node>);
    expect(event!['Type']).toBe('SQS');
    expect(getAtt(event!['Properties']['Queue'])).toBe('JobQueue.Arn');
    expect(event!['Properties']['FunctionResponseTypes']).toEqual(['ReportBatchItemFailures']);
    expect(event!['Properties']['ScalingConfig']['MaximumConcurrency']).toEqual({ Ref: 'WorkerMaxConcurrency' });
    expect(worker['Handler']).toBe('index.worker');
    // The app reports a job that cannot start on the delivery the queue will dead-letter after.
    const env = fn('ApiFunction')['Properties']['Environment']['Variables'] as Node;
    expect(env['QUEUE_MAX_RECEIVE_COUNT']).toBe(String(queue['RedrivePolicy']['maxReceiveCount']));
    expect(env['JOB_QUEUE_URL']).toEqual({ Ref: 'JobQueue' });
    expect(worker['Environment']['Variables']).toEqual(env);
    // The route function can queue a job, and only on this queue.
    const sends = statements().filter(({ statement }) => ([] as string[]).concat(statement['Action']).includes('sqs:SendMessage'));
    expect(sends.map(({ owner, statement }) => [owner, getAtt(statement['Resource'])])).toEqual([['ApiFunction', 'JobQueue.Arn']]);
  });

  it('grants the functions exactly the DynamoDB actions the stores call (table creation is local only)', () => {
    const item: Record<string, string> = { Get: 'GetItem', Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', Query: 'Query' };
    const dir = 'src/stores/dynamodb';
    const used = new Set(
      readdirSync(dir).flatMap((file) => [...readFileSync(`${dir}/${file}`, 'utf8').matchAll(/new (Get|Put|Update|Delete|Query)Command\(/g)].map((m) => `dynamodb:${item[m[1]!]}`)),
    );
    for (const name of ['ApiFunction', 'WorkerFunction']) {
      const granted = statements()
        .filter(({ owner }) => owner === name)
        .flatMap(({ statement }) => ([] as string[]).concat(statement['Action']))
        .filter((action) => action.startsWith('dynamodb:'));
      expect({ name, granted: [...granted].sort() }).toEqual({ name, granted: [...used].sort() });
    }
  });

  it('raises an alarm when anything reaches the dead-letter queue', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, a]) => a['Properties'] as Node);
    const dlq = alarms.find((a) => getAtt(a['Dimensions'][0]['Value']) === 'JobDeadLetterQueue.QueueName');
    expect(dlq).toMatchObject({ Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
  });

  it('logs every function to a log group of its own with a retention', () => {
    for (const [name, f] of ofType('AWS::Serverless::Function')) {
      const group = fn(f['Properties']['LoggingConfig']['LogGroup']['Ref'] as string);
      expect({ name, type: group['Type'] }).toEqual({ name, type: 'AWS::Logs::LogGroup' });
      expect(group['Properties']['RetentionInDays']).toEqual({ Ref: 'LogRetentionDays' });
    }
  });

  it('lets only the worker call Bedrock, on the allowed models and their inference profiles', () => {
    const bedrock = statements().filter(({ statement }) => ([] as string[]).concat(statement['Action']).some((a) => a.startsWith('bedrock:')));
    expect(new Set(bedrock.map(({ owner }) => owner))).toEqual(new Set(['WorkerFunctionRole']));
    const resourcesOf = bedrock.flatMap(({ statement }) => ([] as Node[]).concat(statement['Resource']).map((r) => r['Fn::Sub'] as string));
    expect(resourcesOf).toEqual(
      expect.arrayContaining([expect.stringMatching(/foundation-model\/\$\{ModelId\}$/), expect.stringMatching(/inference-profile\/\$\{ModelId\}$/)]),
    );
    // The wildcard on foundation models holds only through one of the allowed profiles.
    for (const { statement } of bedrock) {
      const wildcard = ([] as Node[]).concat(statement['Resource']).some((r) => String(r['Fn::Sub']).endsWith('foundation-model/*'));
      if (wildcard) expect(statement['Condition']['StringEquals']['bedrock:InferenceProfileArn']['Fn::Sub']).toMatch(/inference-profile\/\$\{ModelId\}$/);
    }
    expect(resources['Fn::ForEach::BedrockAccess']?.[1]).toEqual({ Ref: 'AllowedModelIds' });
  });

  it('builds every function with esbuild for nodejs22.x on arm64', () => {
    const globals = template['Globals']['Function'] as Node;
    expect(globals).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'] });
    for (const [, fn] of ofType('AWS::Serverless::Function')) expect(fn['Metadata']['BuildMethod']).toBe('esbuild');
  });

  it('grants no execute-api, DynamoDB, SQS or Bedrock action on Resource "*", and uses no SAM policy template', () => {
    const all = statements().map(({ statement }) => statement);
    expect(all.length).toBeGreaterThan(5);
    for (const [, f] of ofType('AWS::Serverless::Function')) {
      // SAM policy templates (DynamoDBCrudPolicy …) grant more than the app uses; statements only.
      for (const policy of (f['Properties']['Policies'] ?? []) as Node[]) expect(Object.keys(policy)).toEqual(['Statement']);
    }
    for (const statement of all) {
      const actions = ([] as string[]).concat(statement['Action']);
      const scoped = actions.some((a) => /^(execute-api|dynamodb|bedrock|sqs):/.test(a));
      if (scoped) expect(([] as unknown[]).concat(statement['Resource'])).not.toContain('*');
    }
  });

  it('switches TTL on for the attribute the stores write, with on-demand billing and PITR', () => {
    const [[, table]] = ofType('AWS::DynamoDB::Table') as [[string, Node]];
    expect(table['Properties']).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
    });
  });

  it('outputs the wss URL, the management endpoint, the table and the queues', () => {
    expect(Object.keys(template['Outputs'] as Node).sort()).toEqual(['ConnectionsTableName', 'JobDeadLetterQueueUrl', 'JobQueueUrl', 'ManagementEndpoint', 'WebSocketUrl']);
    expect(template['Outputs']['WebSocketUrl']['Value']['Fn::Sub']).toMatch(/^wss:\/\/.+\/\$\{StageName\}$/);
  });

  const cfnLint = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
  const lintIt = cfnLint.status === 0 ? it : it.skip;
  if (cfnLint.status !== 0) console.warn('SKIPPED: cfn-lint is not installed (pip install cfn-lint), so the template was not linted.');
  lintIt('passes cfn-lint (CloudFormation’s linter, with the SAM and LanguageExtensions transforms)', () => {
    const result = spawnSync('cfn-lint', ['template.yaml'], { encoding: 'utf8' });
    expect(`${result.stdout}${result.stderr}`).toBe('');
    expect(result.status).toBe(0);
  });
});
