import { readFileSync } from 'node:fs';
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
      const fn = resources[/functions\/\$\{(\w+)\.Arn\}/.exec(uri)?.[1] ?? ''];
      expect(fn?.['Type']).toBe('AWS::Serverless::Function');
      expect(fn!['Properties']['Handler']).toBe('index.handler');
    }
  });

  it('puts the authorizer on $connect only, backed by the exported authorizer entry', () => {
    const authorized = ofType('AWS::ApiGatewayV2::Route').filter(([, r]) => r['Properties']['AuthorizationType'] === 'CUSTOM');
    expect(authorized.map(([, r]) => r['Properties']['RouteKey'])).toEqual(['$connect']);
    const [[, authorizer]] = ofType('AWS::ApiGatewayV2::Authorizer') as [[string, Node]];
    expect(authorizer['Properties']).toMatchObject({ AuthorizerType: 'REQUEST', IdentitySource: ['route.request.querystring.token'] });
    const fnName = /functions\/\$\{(\w+)\.Arn\}/.exec(authorizer['Properties']['AuthorizerUri']['Fn::Sub'] as string)?.[1];
    expect(resources[fnName ?? '']?.['Properties']['Handler']).toBe('index.authorizer');
  });

  it('builds every function with esbuild for nodejs22.x on arm64', () => {
    const globals = template['Globals']['Function'] as Node;
    expect(globals).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'] });
    for (const [, fn] of ofType('AWS::Serverless::Function')) expect(fn['Metadata']['BuildMethod']).toBe('esbuild');
  });

  it('grants no execute-api, DynamoDB or Bedrock action on Resource "*"', () => {
    const statements = ofType('AWS::Serverless::Function').flatMap(([, fn]) =>
      ((fn['Properties']['Policies'] ?? []) as Node[]).flatMap((policy) => (policy['Statement'] ?? []) as Node[]),
    );
    expect(statements.length).toBeGreaterThan(0);
    for (const statement of statements) {
      const actions = ([] as string[]).concat(statement['Action']);
      const scoped = actions.some((a) => /^(execute-api|dynamodb|bedrock):/.test(a));
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

  it('outputs the wss URL, the management endpoint and the table name', () => {
    expect(Object.keys(template['Outputs'] as Node).sort()).toEqual(['ConnectionsTableName', 'ManagementEndpoint', 'WebSocketUrl']);
    expect(template['Outputs']['WebSocketUrl']['Value']['Fn::Sub']).toMatch(/^wss:\/\/.+\/\$\{StageName\}$/);
  });
});
