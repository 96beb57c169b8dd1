import type { Node } from './cfn';

const asList = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : ([] as T[]).concat(value));

/** IAM's wildcard match: `*` any run of characters, `?` any one, everything else literal. */
function glob(pattern: string, value: string): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`).test(value);
}

/** The condition operators the template uses; any other one is refused, so a test cannot pass on an unread condition. */
function conditionHolds(condition: Node | undefined, context: Record<string, string>): boolean {
  for (const [operator, tests] of Object.entries(condition ?? {})) {
    for (const [key, expected] of Object.entries(tests as Record<string, string | string[]>)) {
      const actual = context[key];
      if (actual === undefined) return false;
      if (operator === 'StringEquals' && !asList(expected).includes(actual)) return false;
      if (operator === 'StringLike' && !asList(expected).some((pattern) => glob(pattern, actual))) return false;
      if (operator !== 'StringEquals' && operator !== 'StringLike') throw new Error(`condition operator ${operator} is not evaluated here`);
    }
  }
  return true;
}

/**
 * Whether resolved identity-policy statements allow `action` on `resource` with the request's
 * condition keys — IAM's evaluation for Allow statements (the template writes no Deny).
 */
export function allows(statements: readonly Node[], action: string, resource: string, context: Record<string, string> = {}): boolean {
  if (statements.some((s) => s['Effect'] === 'Deny')) throw new Error('Deny statements are not evaluated here');
  return statements.some(
    (s) =>
      s['Effect'] === 'Allow' &&
      asList(s['Action'] as string | string[]).some((a) => glob(a, action)) &&
      asList(s['Resource'] as string | string[]).some((r) => glob(r, resource)) &&
      conditionHolds(s['Condition'] as Node | undefined, context),
  );
}
