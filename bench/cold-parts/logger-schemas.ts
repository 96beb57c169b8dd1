/** The route function's logger and frame schemas, alone: pino as the app configures it, the protocol's TypeBox schemas, one check compiled. */
import { PingFrameSchema } from '../../src/models/protocol';
import { compileOnUse } from '../../src/models/compile-on-use';
import { createLogger } from '../../src/utils/logger';

const log = createLogger('silent');
const ping = compileOnUse(PingFrameSchema);

export const handler = async (): Promise<unknown> => Promise.resolve(log.level === 'silent' && ping().Check({ action: 'ping' }));
