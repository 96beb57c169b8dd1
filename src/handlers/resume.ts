import { validateResumeFrame } from '../models/validate';
import { frameOf, validated } from './client-frame';
import type { RouteHandler } from './types';

/**
 * `llm/resume`: continues an accepted request on this connection — the chunks from `fromSeq`,
 * the live rest, one terminal frame — or answers `resume_unavailable`.
 */
export const resume: RouteHandler = async ({ body, caller }, services) => {
  const frame = validated(frameOf(body), validateResumeFrame);
  await services.resumes.resume(caller, frame);
  return {};
};
