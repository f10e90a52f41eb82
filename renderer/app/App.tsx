import { useEffect, useRef, useState, type ReactNode } from 'react';
import { HelpOverlay } from './HelpOverlay';
import { HostKeyPrompts } from './HostKeyModal';
import { SecretPrompts } from './SecretPrompt';
import { parseRoute, routeHash, TABS, type Route } from './route';
import { applyTheme, initialTheme, type Theme } from './theme';
import { typingTarget } from '../util/hooks';
import { CaseList } from '../views/CaseList';
import { CaseView } from '../views/CaseView';
import { useApiEvent } from '../api/context';

export function App({ busy, transport }: { busy: number; transport: string }): ReactNode {
  const [route, setRoute] = useState<Route>(() => parseRoute(window.location.hash));
  const [theme, setTheme] = useState<Theme>(initialTheme);
  const [help, setHelp] = useState(false);
  const [ingest, setIngest] = useState<{ done: number; total: number } | undefined>(undefined);
  const pendingG = useRef(false);

  useEffect(() => applyTheme(theme), [theme]);
  useEffect(() => {
    const on = (): void => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  useApiEvent('ingest.progress', (p) => setIngest(p.done >= p.total ? undefined : { done: p.done, total: p.total }));

  const go = (r: Route): void => {
    window.location.hash = routeHash(r);
    setRoute(r);
  };

  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      if (e.key === 'Escape') {
        setHelp(false);
        return;
      }
      if (typingTarget(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === '?') {
        setHelp((h) => !h);
        e.preventDefault();
      } else if (e.key === 'T' && e.shiftKey) {
        setTheme((t) => (t === 'dark' ? 'light' : 'dark'));
      } else if (e.key === 'g') {
        pendingG.current = true;
        setTimeout(() => (pendingG.current = false), 1000);
      } else if (e.key === 'c' && pendingG.current) {
        pendingG.current = false;
        go({ view: 'cases' });
      } else if (route.view === 'case' && /^[1-9]$/.test(e.key)) {
        const tab = TABS[Number(e.key) - 1];
        if (tab) go({ ...route, tab });
      } else if (route.view === 'case' && e.key === '/') {
        e.preventDefault();
        go({ ...route, tab: 'search' });
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  return (
    <div className="app">
      <header className="topbar">
        <button className="brand" onClick={() => go({ view: 'cases' })}>
          Casefile
        </button>
        <span className="muted small">{transport === 'browser' ? 'browser mode' : 'desktop'}</span>
        <span className="spacer" />
        {ingest && (
          <span className="ingest" data-testid="ingest-progress">
            ingesting <progress max={ingest.total} value={ingest.done} />
          </span>
        )}
        <button onClick={() => setTheme(theme === 'dark' ? 'light' : 'dark')} title="Theme (Shift+T)" data-testid="theme-toggle">
          {theme === 'dark' ? 'Light' : 'Dark'} theme
        </button>
        <button onClick={() => setHelp(true)} title="Keyboard shortcuts (?)">
          ?
        </button>
      </header>
      <div className={`busybar ${busy > 0 ? 'on' : ''}`} role="progressbar" aria-busy={busy > 0} data-testid="busy" />
      <main>
        {route.view === 'cases' ? (
          <CaseList open={(id) => go({ view: 'case', caseId: id, tab: 'timeline' })} />
        ) : (
          <CaseView key={route.caseId} caseId={route.caseId} tab={route.tab} setTab={(tab) => go({ view: 'case', caseId: route.caseId, tab })} theme={theme} />
        )}
      </main>
      <HostKeyPrompts />
      <SecretPrompts />
      {help && <HelpOverlay onClose={() => setHelp(false)} />}
    </div>
  );
}
