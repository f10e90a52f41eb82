import { StrictMode, useMemo, useState, type ReactNode } from 'react';
import { createRoot } from 'react-dom/client';
import type { ApiClient } from '../shared/api/contract';
import { createClient } from './api/client';
import { ApiContext } from './api/context';
import { withBusy } from './api/busy';
import { App } from './app/App';
import './styles.css';

function Root({ client, transport }: { client: ApiClient; transport: string }): ReactNode {
  const [busy, setBusy] = useState(0);
  const wrapped = useMemo(() => withBusy(client, (n) => setBusy(n)), [client]);
  return (
    <ApiContext.Provider value={wrapped}>
      <App busy={busy} transport={transport} />
    </ApiContext.Provider>
  );
}

const rootEl = document.getElementById('root')!;
const made = createClient();
if ('error' in made) {
  const p = document.createElement('p');
  p.className = 'fatal';
  p.textContent = made.error; // textContent: never markup
  rootEl.append(p);
} else {
  createRoot(rootEl).render(
    <StrictMode>
      <Root client={made.client} transport={made.transport} />
    </StrictMode>,
  );
}
