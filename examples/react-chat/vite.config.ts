import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// Served by the local emulator at /react/. JSX with React's automatic runtime, no plugin needed.
// In this repository the transport comes from the client's sources, so the example always runs
// the current code (an app of yours imports the installed package instead).
export default defineConfig({
  base: '/react/',
  resolve: { alias: { '@ws-llm-gateway/client/ai-sdk': fileURLToPath(new URL('../../client/src/ai-sdk/index.ts', import.meta.url)) } },
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 2048,
    // Two pages: useChat (index.html) and assistant-ui (assistant-ui.html).
    rollupOptions: { input: { index: fileURLToPath(new URL('index.html', import.meta.url)), 'assistant-ui': fileURLToPath(new URL('assistant-ui.html', import.meta.url)) } },
  },
  logLevel: 'warn',
});
