import { useChat } from '@ai-sdk/react';
import { lastAssistantMessageIsCompleteWithToolCalls, type FileUIPart } from 'ai';
import { GatewayChatTransport } from '@ws-llm-gateway/client/ai-sdk';
import { useState, type FormEvent } from 'react';
import Markdown from 'react-markdown';
import remarkGfm from 'remark-gfm';

// The gateway that served this page (the local emulator), over its WebSocket.
const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`;
const GET_TIME = {
  name: 'get_time',
  description: 'The current time in an IANA time zone',
  inputSchema: { type: 'object' as const, properties: { zone: { type: 'string', examples: ['UTC'] } }, required: ['zone'] },
};
// One transport for the page; its tool runs here, in the browser. `?model=` picks the model
// (e.g. mock.markdown-v1, whose answer is Markdown).
const model = new URLSearchParams(location.search).get('model');
const transport = new GatewayChatTransport({ url, defaults: { tools: [GET_TIME], ...(model ? { modelId: model } : {}) } });

function readAsDataUrl(file: File): Promise<FileUIPart> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve({ type: 'file', mediaType: file.type, filename: file.name, url: reader.result as string });
    reader.onerror = () => reject(reader.error ?? new Error(`could not read ${file.name}`));
    reader.readAsDataURL(file);
  });
}

export function Chat() {
  const [input, setInput] = useState('');
  const [files, setFiles] = useState<FileUIPart[]>([]);
  const { messages, sendMessage, stop, status, error, addToolOutput } = useChat({
    id: 'react-chat',
    transport,
    resume: true,
    sendAutomaticallyWhen: lastAssistantMessageIsCompleteWithToolCalls,
    onToolCall: ({ toolCall }) => {
      if (toolCall.toolName !== 'get_time') return;
      const zone = String((toolCall.input as { zone?: string }).zone ?? 'UTC');
      void addToolOutput({ tool: 'get_time', toolCallId: toolCall.toolCallId, output: new Date().toLocaleTimeString('en-GB', { timeZone: zone }) });
    },
  });
  const busy = status === 'submitted' || status === 'streaming';

  function submit(event: FormEvent): void {
    event.preventDefault();
    if (busy || (input.trim() === '' && files.length === 0)) return;
    void sendMessage({ text: input, files });
    setInput('');
    setFiles([]);
  }

  return (
    <main style={{ maxWidth: 720, margin: '0 auto', font: '15px/1.5 system-ui, sans-serif', padding: 16 }}>
      <h1 style={{ fontSize: 18 }}>React chat · useChat over the gateway</h1>
      <ol data-testid="messages" style={{ listStyle: 'none', padding: 0 }}>
        {messages.map((message) => (
          <li key={message.id} data-role={message.role} data-message-id={message.id} style={{ margin: '8px 0', whiteSpace: 'pre-wrap' }}>
            <strong>{message.role}: </strong>
            {message.parts.map((part, i) => {
              // Markdown as React elements (react-markdown never renders raw HTML): safe for model output.
              if (part.type === 'text') return message.role === 'assistant' ? <div key={i} className="text markdown"><Markdown remarkPlugins={[remarkGfm]}>{part.text}</Markdown></div> : <span key={i} className="text">{part.text}</span>;
              if (part.type === 'file') return part.mediaType.startsWith('image/') ? <img key={i} src={part.url} alt={part.filename ?? 'image'} style={{ maxWidth: 96, display: 'block' }} /> : <span key={i}>[{part.filename}]</span>;
              if (part.type === 'tool-get_time') return <code key={i} data-testid="tool" data-state={part.state}>{`get_time(${JSON.stringify(part.input)}) → ${part.state === 'output-available' ? String(part.output) : '…'}`}</code>;
              return null;
            })}
          </li>
        ))}
      </ol>
      {error && <p role="alert" data-testid="error">{error.message}</p>}
      <form onSubmit={submit} style={{ display: 'flex', gap: 8 }}>
        <input data-testid="file" type="file" accept="image/*" onChange={(e) => void Promise.all([...(e.target.files ?? [])].map(readAsDataUrl)).then(setFiles)} />
        <input data-testid="prompt" value={input} onChange={(e) => setInput(e.target.value)} placeholder="Ask something" style={{ flex: 1 }} />
        {busy ? <button type="button" data-testid="stop" onClick={() => void stop()}>Stop</button> : <button type="submit" data-testid="send">Send</button>}
      </form>
      <p data-testid="status">{status}</p>
    </main>
  );
}
