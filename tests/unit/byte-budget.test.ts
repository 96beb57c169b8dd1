import { ByteBudget } from '../../src/attachments/byte-budget';

const never = new AbortController().signal;
const settledSoon = async <T>(promise: Promise<T>): Promise<'settled' | 'pending'> => {
  const marker = Symbol('pending');
  const outcome = await Promise.race([promise.then(() => 'settled' as const, () => 'settled' as const), new Promise<typeof marker>((resolve) => setImmediate(() => resolve(marker)))]);
  return outcome === marker ? 'pending' : outcome;
};

describe('ByteBudget', () => {
  it('grants what is free at once, and makes a taker that does not fit wait until enough is given back', async () => {
    const budget = new ByteBudget(10);
    const first = await budget.take(6, never);
    const second = budget.take(6, never);
    expect(await settledSoon(second)).toBe('pending');
    first();
    first(); // given back once only
    const release = await second;
    expect(await settledSoon(budget.take(5, never))).toBe('pending');
    release();
  });

  it('serves waiters first come first served: a small one does not overtake a large one', async () => {
    const budget = new ByteBudget(10);
    const held = await budget.take(8, never);
    const order: string[] = [];
    const large = budget.take(9, never).then((r) => (order.push('large'), r));
    const small = budget.take(1, never).then((r) => (order.push('small'), r));
    expect(await settledSoon(small)).toBe('pending');
    held();
    (await large)();
    (await small)();
    expect(order).toEqual(['large', 'small']);
  });

  it('stops waiting when its signal aborts, and lets the next waiter in', async () => {
    const budget = new ByteBudget(10);
    const held = await budget.take(10, never);
    const controller = new AbortController();
    const aborted = budget.take(5, controller.signal);
    const next = budget.take(5, never);
    controller.abort(new Error('cancelled'));
    await expect(aborted).rejects.toThrow('cancelled');
    held();
    expect(await settledSoon(next)).toBe('settled');
  });

  it('caps a taker at the whole budget, so one larger than it still runs alone', async () => {
    const budget = new ByteBudget(10);
    const alone = await budget.take(50, never);
    expect(await settledSoon(budget.take(1, never))).toBe('pending');
    alone();
  });
});
