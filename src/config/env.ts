/**
 * Small typed readers for environment variables. Each reader records a problem instead of
 * throwing, so that a misconfigured deployment reports every bad variable at once.
 */
export type Env = Readonly<Record<string, string | undefined>>;

/** Thrown at start-up (cold start) when the environment is invalid. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

export class EnvReader {
  readonly problems: string[] = [];
  /**
   * Every variable read, with its default as text ('' when it has none): what
   * docs/CONFIGURATION.md must list (a test compares the two).
   */
  readonly defaults = new Map<string, string>();

  /** Variables already reported, so one is never reported twice. */
  private readonly invalid = new Set<string>();

  constructor(private readonly env: Env) {}

  /** Records a problem with `name` (also for rules that span several variables). */
  problem(name: string, text: string): void {
    this.invalid.add(name);
    this.problems.push(text);
  }

  /** The raw value, with blank strings treated as unset. */
  raw(name: string): string | undefined {
    if (!this.defaults.has(name)) this.defaults.set(name, '');
    const value = this.env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  }

  string(name: string, fallback: string): string {
    this.defaults.set(name, fallback);
    return this.raw(name) ?? fallback;
  }


  int(name: string, fallback: number, min: number, max: number): number {
    this.defaults.set(name, String(fallback));
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
      this.problem(name, `${name} must be an integer from ${min} to ${max}, got "${value}"`);
      return fallback;
    }
    return parsed;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    this.defaults.set(name, fallback);
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(value)) {
      this.problem(name, `${name} must be one of ${allowed.join(', ')}, got "${value}"`);
      return fallback;
    }
    return value as T;
  }

  list(name: string, fallback: readonly string[]): string[] {
    this.defaults.set(name, fallback.join(','));
    const value = this.raw(name);
    if (value === undefined) return [...fallback];
    return value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  }

  url(name: string): string | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    try {
      const parsed = new URL(value);
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('protocol');
      return value.replace(/\/+$/, '');
    } catch {
      this.problem(name, `${name} must be an http(s) URL, got "${value}"`);
      return undefined;
    }
  }

  /** An http(s) URL, `fallback` when unset. */
  urlOr(name: string, fallback: string): string {
    this.defaults.set(name, fallback);
    return this.url(name) ?? fallback;
  }

  /** An http(s) URL that must be set: `why` says where it comes from. */
  requiredUrl(name: string, why: string): string | undefined {
    const value = this.url(name);
    if (value === undefined && !this.invalid.has(name)) this.problem(name, `${name} is required: ${why}`);
    return value;
  }

  /** Throws one ConfigError listing every problem seen so far. */
  assertValid(): void {
    if (this.problems.length > 0) throw new ConfigError(this.problems);
  }
}
