/**
 * Text measured as people and models see it: in Unicode code points ("characters"), not in the
 * UTF-16 code units JavaScript's `length` counts (an emoji is one character, two code units).
 */

function isHigh(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLow(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** The number of characters (code points) of `text`; a lone surrogate counts as one. */
export function characterCount(text: string): number {
  let count = text.length;
  for (let i = 0; i < text.length - 1; i += 1) {
    if (isHigh(text.charCodeAt(i)) && isLow(text.charCodeAt(i + 1))) {
      count -= 1;
      i += 1;
    }
  }
  return count;
}

/** Whether `text` is well-formed UTF-16: every surrogate is one half of a pair. */
export function isWellFormed(text: string): boolean {
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (isHigh(code) && i + 1 < text.length && isLow(text.charCodeAt(i + 1))) i += 1;
    else if (isHigh(code) || isLow(code)) return false;
  }
  return true;
}

/** The first `max` characters of `text`, never cutting a surrogate pair in two. */
export function firstCharacters(text: string, max: number): string {
  let units = 0;
  for (let taken = 0; taken < max && units < text.length; taken += 1) {
    units += isHigh(text.charCodeAt(units)) && isLow(text.charCodeAt(units + 1)) ? 2 : 1;
  }
  return text.slice(0, units);
}

/** What stands for a lone surrogate that can never be completed (U+FFFD REPLACEMENT CHARACTER). */
const REPLACEMENT = '\ufffd';

/**
 * Joins text that arrives in pieces — a model's deltas — so that no piece it gives out carries
 * half a surrogate pair: a provider may split an emoji's pair across two stream events (an
 * OpenAI-compatible server does, one SSE event each), and a frame holding a lone surrogate breaks
 * clients that decode each frame on its own. A trailing high surrogate is held until its partner
 * arrives; a surrogate that has no partner becomes U+FFFD.
 */
export class SurrogateJoiner {
  private held = '';

  /** The well-formed text to give out now (possibly empty). */
  push(piece: string): string {
    let text = this.held + piece;
    this.held = '';
    if (text.length > 0 && isHigh(text.charCodeAt(text.length - 1))) {
      this.held = text.slice(-1);
      text = text.slice(0, -1);
    }
    return isWellFormed(text) ? text : wellFormed(text);
  }

  /** What is still held at the end of the text: a high surrogate whose partner never came. */
  flush(): string {
    const rest = this.held === '' ? '' : REPLACEMENT;
    this.held = '';
    return rest;
  }
}

/** `text` with every lone surrogate replaced by U+FFFD. */
function wellFormed(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (isHigh(code) && i + 1 < text.length && isLow(text.charCodeAt(i + 1))) {
      out += text.slice(i, i + 2);
      i += 1;
    } else out += isHigh(code) || isLow(code) ? REPLACEMENT : text[i];
  }
  return out;
}
