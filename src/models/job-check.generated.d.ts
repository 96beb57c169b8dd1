/** The worker's check of a queue message against JobSchema, compiled ahead of time (scripts/generate-checks.ts). */
export declare function checkJob(value: unknown): boolean;
