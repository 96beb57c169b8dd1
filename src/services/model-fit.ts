import type { ModelSpec } from '../config/model-table';
import { blocksOf } from '../models/content';
import { GatewayError } from '../models/errors';
import type { JobRequest } from '../models/job';

const invalid = (detail: string): GatewayError => new GatewayError('invalid_request', `Invalid request: ${detail}.`);

/**
 * Refuses, before anything is admitted or billed, a request its model cannot take — as the
 * model table describes it: more output than it writes, more than its context window holds,
 * or an image, a document or tools it cannot read. A model the table does not know is taken at
 * its word (its provider refuses what it cannot do).
 */
export function assertFitsModel(spec: ModelSpec | undefined, request: JobRequest, inputTokens: number): void {
  if (spec === undefined) return;
  const { maxTokens } = request.inferenceConfig;
  if (maxTokens !== undefined && maxTokens > spec.maxOutputTokens) {
    throw invalid(`data.inferenceConfig.maxTokens must be at most ${spec.maxOutputTokens} for ${spec.name} ("${spec.id}")`);
  }
  if (inputTokens + (maxTokens ?? 0) > spec.contextTokens) {
    throw invalid(
      `the conversation is about ${inputTokens} tokens${maxTokens !== undefined ? ` and asks for up to ${maxTokens} more` : ''}, more than the ${spec.contextTokens} ${spec.name} ("${spec.id}") holds; shorten it`,
    );
  }
  const kinds = new Set(request.messages.flatMap((message) => (typeof message.content === 'string' ? [] : blocksOf(message.content).map((block) => block.type))));
  for (const [kind, can, what] of [
    ['image', spec.images, 'images'],
    ['document', spec.documents, 'documents'],
  ] as const) {
    if (kinds.has(kind) && !can) throw invalid(`${spec.name} ("${spec.id}") cannot read ${what}: send text only, or pick a model that reads them`);
  }
  if ((request.tools !== undefined || kinds.has('tool_use') || kinds.has('tool_result')) && !spec.tools) {
    throw invalid(`${spec.name} ("${spec.id}") cannot use tools: send no tools, or pick a model that uses them`);
  }
}
