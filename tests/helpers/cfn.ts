import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';

export type Node = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * The translated template, or why there is none: the translator is not installed (`missing`: a
 * matter of the machine), the script is not where the tests run it (`broken`: a matter of the
 * repository), or the translator refused the template (`refused`: a finding).
 */
export type Translation = { readonly template: Node } | { readonly missing: string } | { readonly broken: string } | { readonly refused: string };

export const TRANSLATOR = 'scripts/sam-translate.py';

/** How the translator script says it cannot import samtranslator or cfn-lint. */
const NOT_INSTALLED = 3;

/**
 * Runs AWS's SAM translator (scripts/sam-translate.py, on the samtranslator package that ships
 * with cfn-lint) on the raw template, with the given parameter values.
 */
export function translate(parameters: Record<string, string> = {}, template = 'template.yaml'): Translation {
  if (!existsSync(TRANSLATOR)) return { broken: `${TRANSLATOR} is missing` };
  const args = [TRANSLATOR, template, ...Object.entries(parameters).map(([k, v]) => `${k}=${v}`)];
  const run = spawnSync('python3', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (run.error) return { missing: `python3 cannot be run: ${String(run.error)}` };
  if (run.status === NOT_INSTALLED) return { missing: `the SAM translator (it ships with cfn-lint: pip install cfn-lint): ${run.stderr.trim()}` };
  if (run.status === 1) return { refused: run.stderr };
  if (run.status !== 0) return { broken: `${TRANSLATOR} exited ${String(run.status)}: ${run.stderr.trim()}` };
  return { template: JSON.parse(run.stdout) as Node };
}

/**
 * The raw template as YAML reads it, in its own order (the order `sam deploy --guided` asks for
 * the parameters in), YAML aliases resolved. CloudFormation's short-form tags (!Ref, !If…) are
 * read as the plain value they tag: use it for what holds none (Parameters, build Metadata).
 */
export function rawTemplate(template = 'template.yaml'): Node {
  return parse(readFileSync(template, 'utf8'), { logLevel: 'silent' }) as Node;
}

/** What `sam build` reads to bundle a function: its esbuild Metadata (BuildMethod, BuildProperties). */
export type BuildMetadata = { readonly BuildMethod?: string; readonly BuildProperties?: Node };

/** The build Metadata of every AWS::Serverless::Function in the raw template, as written. */
export function buildMetadata(template = 'template.yaml'): Record<string, BuildMetadata> {
  const functions = Object.entries(rawTemplate(template)['Resources'] as Record<string, Node>).filter(([, r]) => r['Type'] === 'AWS::Serverless::Function');
  return Object.fromEntries(functions.map(([name, r]) => [name, (r['Metadata'] ?? {}) as BuildMetadata]));
}

const NO_VALUE = Symbol('AWS::NoValue');

const PSEUDO: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::Region': 'us-east-1',
  'AWS::AccountId': '123456789012',
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::StackName': 'stack',
};

/**
 * Resolves what CloudFormation resolves at deploy time, for one set of parameter values:
 * parameters and pseudo parameters, conditions, Fn::If (dropping AWS::NoValue), Sub, Join,
 * Split and Select. A reference to a resource becomes `<Name>` or `<Name.Attribute>`.
 */
export class Resolver {
  private readonly values: Record<string, string>;

  constructor(private readonly template: Node, parameters: Record<string, string> = {}) {
    const defaults = Object.fromEntries(Object.entries((template['Parameters'] ?? {}) as Node).map(([name, p]) => [name, String(p['Default'] ?? '')]));
    this.values = { ...PSEUDO, ...defaults, ...parameters };
  }

  condition(name: string): boolean {
    return this.truth((this.template['Conditions'] as Node)[name]);
  }

  /**
   * What CloudFormation's Rules refuse for these parameters, before it creates anything: the
   * AssertDescription of every assertion that fails in a rule whose RuleCondition holds.
   */
  refusals(): string[] {
    const rules = (this.template['Rules'] ?? {}) as Record<string, Node>;
    return Object.values(rules).flatMap((rule) =>
      rule['RuleCondition'] !== undefined && !this.truth(rule['RuleCondition'])
        ? []
        : (rule['Assertions'] as Node[]).filter((a) => !this.truth(a['Assert'])).map((a) => String(a['AssertDescription'])),
    );
  }

  /** The resources CloudFormation would create with these parameters. */
  resources(): Record<string, Node> {
    const all = this.template['Resources'] as Record<string, Node>;
    return Object.fromEntries(Object.entries(all).filter(([, r]) => r['Condition'] === undefined || this.condition(r['Condition'] as string)));
  }

  resolve(node: unknown): unknown {
    const value = this.value(node);
    return value === NO_VALUE ? undefined : value;
  }

  private truth(node: unknown): boolean {
    return this.value(node) === true;
  }

  private value(node: unknown): unknown {
    if (Array.isArray(node)) return node.map((item) => this.value(item)).filter((item) => item !== NO_VALUE);
    if (typeof node !== 'object' || node === null) return node;
    const entries = Object.entries(node as Node);
    if (entries.length === 1) {
      const [[key, arg]] = entries as [[string, any]]; // eslint-disable-line @typescript-eslint/no-explicit-any
      switch (key) {
        case 'Ref':
          return arg === 'AWS::NoValue' ? NO_VALUE : (this.values[arg as string] ?? `<${String(arg)}>`);
        case 'Fn::GetAtt':
          return `<${([] as string[]).concat(arg as string[]).join('.')}>`;
        case 'Condition':
          return this.condition(arg as string);
        case 'Fn::If':
          return this.condition(arg[0] as string) ? this.value(arg[1]) : this.value(arg[2]);
        case 'Fn::Equals':
          return this.value(arg[0]) === this.value(arg[1]);
        case 'Fn::Not':
          return !this.truth(arg[0]);
        case 'Fn::And':
          return (arg as unknown[]).every((c) => this.truth(c));
        case 'Fn::Or':
          return (arg as unknown[]).some((c) => this.truth(c));
        case 'Fn::Join':
          return (this.value(arg[1]) as unknown[]).join(arg[0] as string);
        case 'Fn::Split':
          return String(this.value(arg[1])).split(arg[0] as string);
        case 'Fn::Select': {
          const list = this.value(arg[1]) as unknown[];
          const index = Number(this.value(arg[0]));
          if (index >= list.length) throw new Error(`Fn::Select index ${index} out of range (${list.length})`);
          return list[index];
        }
        case 'Fn::Sub':
          return this.sub(arg);
      }
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, this.value(v)]).filter(([, v]) => v !== NO_VALUE));
  }

  private sub(arg: unknown): string {
    const [text, map] = Array.isArray(arg) ? (arg as [string, Node]) : [arg as string, {}];
    const local = Object.fromEntries(Object.entries(map).map(([k, v]) => [k, String(this.value(v))]));
    return text.replace(/\$\{([^}!]+)\}/g, (_, name: string) => local[name] ?? this.values[name] ?? `<${name}>`);
  }
}
