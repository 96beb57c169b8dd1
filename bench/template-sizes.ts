import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** MemorySize of the worker and route functions in a version's template (MB), and the worker's BatchSize. */
export interface TemplateSizes {
  readonly workerMb: number;
  readonly routeMb: number;
  readonly batchSize: number;
}

/** The worker's and the route's memory and the worker's BatchSize, as a version's template.yaml sets them. */
export function templateOf(root: string): TemplateSizes {
  const text = readFileSync(resolve(root, 'template.yaml'), 'utf8');
  const globalMb = Number(/Globals:[\s\S]*?MemorySize: (\d+)/.exec(text)?.[1]);
  const worker = /\n {2}WorkerFunction:[\s\S]*?\n {2}\w+Function:/.exec(text)?.[0] ?? '';
  const memory = /\n {6}MemorySize: (!Ref )?(\w+)/.exec(worker);
  // A number, or a parameter's default.
  const parameter = memory?.[1] ? new RegExp(`\\n {2}${memory[2]}:[\\s\\S]*?Default: (\\d+)`).exec(text)?.[1] : memory?.[2];
  const workerMb = Number(parameter ?? globalMb);
  const batchSize = Number(/BatchSize: (\d+)/.exec(worker)?.[1] ?? 10);
  return { workerMb, routeMb: globalMb, batchSize };
}
