import { ATTACHMENTS_OFF, type AttachmentStore } from '../attachments/attachment-store';
import { attachmentKey, keptAttachmentKey, keptAttachmentPrefix } from '../attachments/keys';
import type { ContentBlock } from '../models/protocol';
import type { StoredMessage } from '../stores/conversation-store';

/** The uploaded attachments a message refers to, each once. */
export function attachmentIdsOf(content: StoredMessage['content']): string[] {
  if (typeof content === 'string') return [];
  const ids = content.flatMap((block: ContentBlock) => ((block.type === 'image' || block.type === 'document') && block.attachmentId !== undefined ? [block.attachmentId] : []));
  return [...new Set(ids)];
}

/** Why a turn cannot keep an attachment: the message that names it is not written. */
export class UnknownAttachment extends Error {
  constructor(readonly attachmentId: string) {
    super(`unknown attachment "${attachmentId}"`);
  }
}

/**
 * A conversation's attachments, kept as long as the messages that refer to them: an upload
 * expires from `uploads/` after AttachmentRetentionDays, so when a conversation keeps a message
 * the worker copies each of its uploads under the conversation's own prefix (server side), and
 * the history reads those copies. Deleting the conversation deletes the prefix; an edit that
 * removes messages removes the copies no remaining message refers to.
 */
export class ConversationAttachments {
  constructor(private readonly store: AttachmentStore | undefined) {}

  /** Copies the message's uploads into the conversation (again after a redelivery: the same copy). */
  async keep(owner: string, conversationId: string, content: StoredMessage['content']): Promise<void> {
    const ids = attachmentIdsOf(content);
    if (ids.length === 0) return;
    const store = this.store;
    if (store === undefined) throw new Error(ATTACHMENTS_OFF);
    await Promise.all(
      ids.map(async (id) => {
        if (await store.copy(attachmentKey(owner, id), keptAttachmentKey(owner, conversationId, id))) return;
        // No upload (any more): kept already by an earlier delivery of this job, or unknown.
        const kept = await store.open(keptAttachmentKey(owner, conversationId, id));
        if (kept === undefined) throw new UnknownAttachment(id);
        kept.discard();
      }),
    );
  }

  /** Removes the copies only `removed` messages referred to. */
  async forget(owner: string, conversationId: string, removed: readonly StoredMessage[], remaining: readonly StoredMessage[]): Promise<void> {
    if (this.store === undefined) return;
    const still = new Set(remaining.flatMap((m) => attachmentIdsOf(m.content)));
    const gone = [...new Set(removed.flatMap((m) => attachmentIdsOf(m.content)))].filter((id) => !still.has(id));
    await this.store.remove(gone.map((id) => keptAttachmentKey(owner, conversationId, id)));
  }

  /** Removes every attachment the conversation keeps; returns how many. */
  async removeAll(owner: string, conversationId: string): Promise<number> {
    return this.store === undefined ? 0 : this.store.removeAll(keptAttachmentPrefix(owner, conversationId));
  }
}
