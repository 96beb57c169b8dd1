
/** An in-process DynamoDB emulator (dynalite) on loopback, for `npm run local:dynamodb` and tests. */
export async function startDynalite(): Promise<{ endpoint: string; stop(): Promise<void> }> {
  // A development dependency: loaded only when asked for, never bundled into Lambda.
  const { default: dynalite } = await import('dynalite');
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('dynalite has no address');
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
