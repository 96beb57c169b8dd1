import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';

/** A server running in a child process, so its memory is measured apart from the load clients. */
export interface ChildServer {
  readonly url: string;
  readonly pid: number;
  rssBytes(): Promise<number>;
  stop(): Promise<void>;
}

/** Resident memory of a process, from /proc (Linux). */
export async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for ${pid}`);
  return Number(kb) * 1024;
}

/**
 * Starts `node [nodeFlags] --import tsx <script>` and waits for it to print its ws:// URL. The child is
 * killed if it does not start within 20 s, and on stop.
 */
export async function startChild(script: string, env: Record<string, string>, urlPattern: RegExp, nodeFlags: readonly string[] = []): Promise<ChildServer> {
  const child: ChildProcess = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', script], {
    env: { ...process.env, ...env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${script} did not start: ${seen}`)), 20_000);
    const onData = (data: Buffer): void => {
      seen += data.toString('utf8');
      const match = urlPattern.exec(seen);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (data: Buffer) => (seen += data.toString('utf8')));
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}: ${seen}`)));
  }).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
  return {
    url,
    pid: child.pid!,
    rssBytes: () => rssOf(child.pid!),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      }),
  };
}
