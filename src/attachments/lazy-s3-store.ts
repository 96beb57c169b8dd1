import type { AppConfig } from '../config/config';
import type { AttachmentStore } from './attachment-store';
import type * as S3Store from './s3-attachment-store';

/**
 * The S3 attachment store, or undefined when attachments are off. The S3 SDK is required on
 * first use — an upload to presign, an attachment to read — so a cold start that serves
 * `$connect`, a text answer or a cancel never evaluates it.
 */
export function lazyS3Attachments(config: AppConfig, credentials?: { accessKeyId: string; secretAccessKey: string }): AttachmentStore | undefined {
  const { bucket, endpoint } = config.attachments;
  if (bucket === undefined) return undefined;
  let store: AttachmentStore | undefined;
  const get = (): AttachmentStore => {
    if (store === undefined) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const s3 = require('./s3-attachment-store') as typeof S3Store;
      const options = { bucket, region: config.region, ...(endpoint ? { endpoint } : {}), ...(credentials ? { credentials } : {}) };
      store = new s3.S3AttachmentStore(s3.createS3Client(options), bucket);
    }
    return store;
  };
  return {
    presignUpload: (key, mediaType, size, expiresIn) => get().presignUpload(key, mediaType, size, expiresIn),
    open: (key) => get().open(key),
    copy: (from, to) => get().copy(from, to),
    remove: (keys) => (keys.length === 0 ? Promise.resolve() : get().remove(keys)),
    removeAll: (prefix) => get().removeAll(prefix),
  };
}
