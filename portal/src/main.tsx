// The admin portal's entry: read the portal's settings, sign the admin in, then render. Fluent UI's styles
// are inserted with the page's CSP nonce (the server sends a fresh one with each page, style-src allows
// only it and 'self').
import { createRoot } from 'react-dom/client';
import { FluentProvider, RendererProvider, createDOMRenderer, makeStaticStyles, webLightTheme } from '@fluentui/react-components';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { App } from './App';
import { keepPageVisibleWithoutDialogs } from './kit/unhide';
import { ensureSignedIn, type PortalConfig } from './auth';

const nonce = document.querySelector('meta[name="csp-nonce"]')?.getAttribute('content') ?? '';
const renderer = createDOMRenderer(document, { styleElementAttributes: { nonce } });
const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false, refetchOnWindowFocus: false } } });
const root = createRoot(document.getElementById('root')!);
keepPageVisibleWithoutDialogs();

const useGlobalStyles = makeStaticStyles({ body: { margin: 0 } });

function Global() {
  useGlobalStyles();
  return null;
}

function render(node: React.ReactNode) {
  root.render(
    <RendererProvider renderer={renderer} targetDocument={document}>
      <FluentProvider theme={webLightTheme}>
        <Global />
        <QueryClientProvider client={queryClient}>{node}</QueryClientProvider>
      </FluentProvider>
    </RendererProvider>,
  );
}

async function start() {
  const res = await fetch('/admin/config.json');
  if (!res.ok) throw new Error(`The portal's settings could not be read (${res.status}).`);
  const config = (await res.json()) as PortalConfig;
  await ensureSignedIn(config);
  render(<App />);
}

start().catch((e: unknown) => {
  render(<App startError={e instanceof Error ? e.message : String(e)} />);
});
