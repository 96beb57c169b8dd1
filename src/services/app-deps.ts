import type { AttachmentStore } from '../attachments/attachment-store';
import type { AppConfig } from '../config/config';
import type { ChatModel } from '../llm/chat-model';
import type { JobQueue } from '../queue/job-queue';
import type { ConnectionStore } from '../stores/connection-store';
import type { CounterStore } from '../stores/counter-store';
import type { RequestStore } from '../stores/request-store';
import type { StreamStore } from '../stores/stream-store';
import type { ConversationStore } from '../stores/conversation-store';
import type { Logger } from '../utils/logger';
import type { GatewayMetrics } from '../utils/metrics';
import type { FrameSender } from '../utils/websocket';

/** Everything the app talks to, created once per cold start and injected (tests swap them). */
export interface AppDeps {
  readonly config: AppConfig;
  readonly logger: Logger;
  readonly sender: FrameSender;
  readonly connections: ConnectionStore;
  readonly requests: RequestStore;
  readonly counters: CounterStore;
  readonly streams: StreamStore;
  readonly conversations: ConversationStore;
  readonly queue: JobQueue;
  readonly model: ChatModel;
  readonly metrics: GatewayMetrics;
  /** Where attachments are uploaded and read; undefined when they are off (no ATTACHMENTS_BUCKET). */
  readonly attachments: AttachmentStore | undefined;
}
