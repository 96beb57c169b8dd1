import type { Frame } from './ws-client';

/**
 * Reads what one connection received for one requestId as the protocol promises it: a series of
 * answers, each starting with `accepted` (a request) or `resumed` (a resume), or an error alone
 * (a request or resume refused before it started), and each closed by exactly one terminal frame.
 * Inside an answer, chunks (and `tool_use` frames, which share their seq) are contiguous from 0 (after `accepted`) or from `fromSeq` (after
 * `resumed`; a `resumed` inside an open answer is a resume of it on the connection that holds it,
 * which replays from its `fromSeq` again, and a chat answer's parts from 0), `response` parts run 0…parts-1, and `done.seq` counts
 * the chunks — or, after a resume from beyond the answer's end (no chunk is then due), is below
 * its `fromSeq`. A frame outside any answer — after a terminal, after `resumed_elsewhere` — is a
 * problem. Refusals (`refusedRequestId`) are counted apart: they end nothing.
 */
export interface AnswerSegments {
  /** Answers seen, closed or not. */
  readonly answers: number;
  /** Answers still waiting for their terminal frame. */
  readonly open: number;
  /** Resumes merged into an answer already open here. */
  readonly merges: number;
  /** Frames refused without ending anything (`refusedRequestId`). */
  readonly refusals: number;
  /** What broke the rules above, in words. */
  readonly problems: readonly string[];
}

const isLastPart = (f: Frame): boolean => f.type === 'response' && f.part === f.parts - 1;

export function answerSegments(frames: readonly Frame[], requestId: string): AnswerSegments {
  let answers = 0;
  let merges = 0;
  let refusals = 0;
  const problems: string[] = [];
  /** The answer open here: the chunk and part due next; `ahead` while no chunk came since a `resumed`. */
  let open: { next: number; part: number; ahead: boolean } | undefined;
  const problem = (f: Frame, what: string): void => void problems.push(`${requestId}: ${what}: ${JSON.stringify(f).slice(0, 160)}`);
  for (const f of frames) {
    if (f.refusedRequestId === requestId) {
      refusals += 1;
      continue;
    }
    if (f.requestId !== requestId) continue;
    if (open === undefined) {
      if (f.type === 'accepted' || f.type === 'resumed') {
        answers += 1;
        open = { next: f.type === 'resumed' ? Number(f.fromSeq) : 0, part: 0, ahead: f.type === 'resumed' };
      } else if (f.type === 'error') answers += 1;
      else problem(f, 'a frame outside any answer');
      continue;
    }
    switch (f.type) {
      case 'resumed':
        merges += 1;
        if (Number(f.fromSeq) > open.next) problem(f, `a resume here skips from ${open.next}`);
        open.next = Number(f.fromSeq);
        open.ahead = true;
        // A chat answer is replayed whole: its parts start again from 0 (the client keeps each part once, by number).
        open.part = 0;
        break;
      // A tool call's pieces share the chunks' sequence.
      case 'chunk':
      case 'tool_use':
        if (f.seq !== open.next) problem(f, `${String(f.type)} seq ${String(f.seq)} where ${open.next} was due`);
        open.next = Number(f.seq) + 1;
        open.ahead = false;
        break;
      case 'response':
        if (f.part !== open.part) problem(f, `response part ${String(f.part)} where ${open.part} was due`);
        open.part = Number(f.part) + 1;
        if (isLastPart(f)) open = undefined;
        break;
      case 'done':
        // A resume from beyond the end gets no chunk: the answer had fewer than it asked from.
        if (f.seq !== open.next && !(open.ahead && Number(f.seq) < open.next)) problem(f, `done.seq ${String(f.seq)} after ${open.next} chunks`);
        open = undefined;
        break;
      case 'error':
        open = undefined;
        break;
      default:
        problem(f, 'an unexpected frame inside an answer');
    }
  }
  return { answers, open: open === undefined ? 0 : 1, merges, refusals, problems };
}
