/**
 * The cost bench's cancel and resume samples, each cancel or resume sent at a different moment
 * of an answer (so every phase of the worker's stream watch is sampled). Copied with
 * bench/cost.ts into the previous version: imports only what both have.
 */
import { probe, type Probe } from './cost-probe';

/** A typical question, as a frame. */
export const ask = (requestId: string) => ({ action: 'llm/stream', requestId, data: { messages: [{ role: 'user', content: `a typical question, ${requestId}` }] } });
export const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** From `llm/cancel` to the `cancelled` error frame, `samples` times on `client`. */
export async function cancelLatencies(client: Probe, samples: number): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < samples; i += 1) {
    const id = `cancel-${i}`;
    client.send(ask(id));
    await client.until((f) => f.requestId === id && f.type === 'chunk');
    await sleep(1500 + 97 * i);
    const sent = performance.now();
    client.send({ action: 'llm/cancel', requestId: id });
    const end = await client.until((f) => f.requestId === id && f.type === 'error');
    latencies.push(end.at - sent);
  }
  return latencies;
}

/** From `llm/resume` on a new connection to its `resumed` frame, `samples` times. */
export async function resumeLatencies(url: string, samples: number): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < samples; i += 1) {
    const id = `resume-${i}`;
    const gone = await probe(url);
    gone.send(ask(id));
    const { frame } = await gone.until((f) => f.requestId === id && f.type === 'accepted');
    await gone.until((f) => f.requestId === id && f.type === 'chunk');
    await sleep(1500 + 97 * i);
    gone.close();
    const fromSeq = gone.frames.filter((a) => a.frame.requestId === id && a.frame.type === 'chunk').length;
    const back = await probe(url);
    const sent = performance.now();
    back.send({ action: 'llm/resume', requestId: id, data: { resumeToken: frame.resumeToken, fromSeq } });
    const resumed = await back.until((f) => f.requestId === id && f.type === 'resumed');
    latencies.push(resumed.at - sent);
    back.send({ action: 'llm/cancel', requestId: id });
    await back.until((f) => f.requestId === id && f.type === 'error');
    back.close();
  }
  return latencies;
}
