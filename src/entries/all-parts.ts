import type { DepsParts } from '../deps';
import { ROUTE_PARTS } from './route-parts';
import { WORKER_PARTS } from './worker-parts';

/** Both functions' parts, for a process that plays both (the local emulator, tests). */
export const ALL_PARTS: DepsParts = { queue: ROUTE_PARTS.queue, model: WORKER_PARTS.model };
