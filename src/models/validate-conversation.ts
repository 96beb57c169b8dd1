import { compileOnUse } from './compile-on-use';
import { GatewayError } from './errors';
import { LIMITS } from './limits';
import {
  ConvCreateFrameSchema,
  ConvDeleteFrameSchema,
  ConvGetFrameSchema,
  ConvListFrameSchema,
  ConvRenameFrameSchema,
  type ConvCreateFrame,
  type ConvDeleteFrame,
  type ConvGetFrame,
  type ConvListFrame,
  type ConvRenameFrame,
} from './protocol';
import { characterCount, isWellFormed } from './text';
import { check } from './validate';

const checks = {
  create: compileOnUse(ConvCreateFrameSchema),
  list: compileOnUse(ConvListFrameSchema),
  get: compileOnUse(ConvGetFrameSchema),
  rename: compileOnUse(ConvRenameFrameSchema),
  delete: compileOnUse(ConvDeleteFrameSchema),
};

/** A text field's length in characters (code points) and its Unicode, as chat frames' are checked. */
function checkText(name: string, value: string | undefined, max: number): void {
  if (value === undefined) return;
  if (characterCount(value) > max) throw new GatewayError('invalid_request', `Invalid request: ${name} must be at most ${max} characters.`);
  if (!isWellFormed(value)) throw new GatewayError('invalid_request', `Invalid request: ${name} must be valid Unicode text (it holds a lone UTF-16 surrogate).`);
}

export function validateConvCreate(frame: unknown): ConvCreateFrame {
  check(checks.create(), frame);
  checkText('data.title', frame.data?.title, LIMITS.maxTitleChars);
  checkText('data.systemPrompt', frame.data?.systemPrompt, LIMITS.maxSystemPromptChars);
  return frame;
}

export function validateConvList(frame: unknown): ConvListFrame {
  check(checks.list(), frame);
  return frame;
}

export function validateConvGet(frame: unknown): ConvGetFrame {
  check(checks.get(), frame);
  return frame;
}

export function validateConvRename(frame: unknown): ConvRenameFrame {
  check(checks.rename(), frame);
  checkText('data.title', frame.data.title, LIMITS.maxTitleChars);
  return frame;
}

export function validateConvDelete(frame: unknown): ConvDeleteFrame {
  check(checks.delete(), frame);
  return frame;
}
