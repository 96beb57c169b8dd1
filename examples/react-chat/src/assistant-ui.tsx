import { AssistantRuntimeProvider, ComposerPrimitive, MessagePrimitive, ThreadPrimitive } from '@assistant-ui/react';
import { useChatRuntime } from '@assistant-ui/react-ai-sdk';
import { GatewayChatTransport } from '@ws-llm-gateway/client/ai-sdk';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';

// assistant-ui on the AI SDK runtime, with the gateway's transport: the same ten lines as useChat.
const transport = new GatewayChatTransport({ url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/` });

const UserMessage = () => (
  <MessagePrimitive.Root data-role="user">
    <MessagePrimitive.Parts />
  </MessagePrimitive.Root>
);
const AssistantMessage = () => (
  <MessagePrimitive.Root data-role="assistant">
    <MessagePrimitive.Parts />
  </MessagePrimitive.Root>
);

function App() {
  const runtime = useChatRuntime({ transport });
  return (
    <AssistantRuntimeProvider runtime={runtime}>
      <ThreadPrimitive.Root style={{ maxWidth: 720, margin: '0 auto', font: '15px/1.5 system-ui, sans-serif', padding: 16 }}>
        <h1 style={{ fontSize: 18 }}>assistant-ui · useChatRuntime over the gateway</h1>
        <ThreadPrimitive.Viewport data-testid="messages">
          <ThreadPrimitive.Messages components={{ UserMessage, AssistantMessage }} />
        </ThreadPrimitive.Viewport>
        <ComposerPrimitive.Root style={{ display: 'flex', gap: 8 }}>
          <ComposerPrimitive.Input data-testid="prompt" placeholder="Ask something" style={{ flex: 1 }} />
          <ComposerPrimitive.Send data-testid="send">Send</ComposerPrimitive.Send>
          <ComposerPrimitive.Cancel data-testid="stop">Stop</ComposerPrimitive.Cancel>
        </ComposerPrimitive.Root>
      </ThreadPrimitive.Root>
    </AssistantRuntimeProvider>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
