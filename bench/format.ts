/** Number formats shared by the benchmark report's sections. */
export const ms = (value: number): string => `${value.toFixed(value < 10 ? 2 : 0)} ms`;
export const kib = (bytes: number): string => `${(bytes / 1024).toFixed(0)} KiB`;
