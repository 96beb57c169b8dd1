import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// Served by the local emulator at /react/. JSX with React's automatic runtime, no plugin needed.
// In this repository the transport comes from the client's sources, so the example always runs
// the current code (an app of yours imports the installed package instead).
export default defineConfig({
  base: '/react/',
  resolve: { alias: { '@ws-llm-gateway/client/ai-sdk': fileURLToPath(new URL('../../client/src/ai-sdk/index.ts', import.meta.url)) } },
  oxc: { jsx: { runtime: 'automatic' } },
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 1024 },
  logLevel: 'warn',
});
