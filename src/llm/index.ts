import type { AppConfig } from '../config/config';
import { ConfigError } from '../config/env';
import type { ChatModel } from './chat-model';
import { MockChatModel } from './mock';

/** The configured model provider, created once per cold start. */
export function createChatModel(config: AppConfig): ChatModel {
  switch (config.llmProvider) {
    case 'mock':
      return new MockChatModel(config.mock);
    case 'bedrock':
      throw new ConfigError(['LLM_PROVIDER=bedrock is not part of this build yet; use LLM_PROVIDER=mock']);
  }
}

export type { ChatModel, ChatModelEvent, ChatModelRequest } from './chat-model';
