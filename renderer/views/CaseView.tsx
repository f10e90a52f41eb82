import { useCallback, useMemo, useRef, useState, type ReactNode } from 'react';
import type { Event } from '../../shared/api/contract';
import { useApi, useApiEvent } from '../api/context';
import { errorText } from '../api/errors';
import { TABS, type Tab } from '../app/route';
import { useLoad } from '../util/hooks';
import { visible } from '../util/text';
import type { Zone } from '../timeline/timefmt';
import { CaseContext, type AnnotationTarget, type CaseCtx, type ViewerTarget } from './caseContext';
import { TimelinePanel } from './TimelinePanel';
import { HostsPanel } from './HostsPanel';
import { WalkthroughPanel } from './WalkthroughPanel';
import { ArtifactsPanel } from './ArtifactsPanel';
import { EventsPanel } from './EventsPanel';
import { FindingsPanel } from './FindingsPanel';
import { AnnotationsPanel } from './AnnotationsPanel';
import { SearchPanel } from './SearchPanel';
import { ExportPanel } from './ExportPanel';
import { ChartsPanel } from './ChartsPanel';
import { AnnotationEditor } from './AnnotationEditor';

const TAB_LABEL: Readonly<Record<Tab, string>> = {
  timeline: 'Timeline',
  hosts: 'Hosts',
  walkthrough: 'Walkthrough',
  artifacts: 'Artifacts',
  events: 'Events',
  findings: 'Findings',
  annotations: 'Annotations',
  search: 'Search',
  export: 'Export',
  charts: 'Charts',
};

export function CaseView({ caseId, tab, setTab, theme }: { caseId: number; tab: Tab; setTab: (t: Tab) => void; theme: 'light' | 'dark' }): ReactNode {
  const api = useApi();
  const detail = useLoad(() => api.call('cases.get', { caseId }), [caseId]);
  const [zone, setZone] = useState<Zone>(() => (localStorage.getItem('casefile.zone') as Zone | null) ?? 'UTC');
  const [corrected, setCorrected] = useState(true);
  const [selectedEvent, selectEvent] = useState<Event | undefined>(undefined);
  const [viewer, setViewer] = useState<ViewerTarget | undefined>(undefined);
  const [annotating, setAnnotating] = useState<AnnotationTarget | undefined>(undefined);
  const [navError, setNavError] = useState<string | undefined>(undefined);
  const seq = useRef(0);

  // Coalesce bursts of case.updated (an ingest emits many) into one reload.
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const reloadSoon = useCallback(() => {
    if (timer.current) return;
    timer.current = setTimeout(() => {
      timer.current = undefined;
      detail.reload();
    }, 250);
  }, [detail]);
  useApiEvent('case.updated', (p) => p.caseId === caseId && reloadSoon());
  useApiEvent('run.updated', (p) => p.caseId === caseId && reloadSoon());

  const openArtifact = useCallback(
    (artifactId: number, line?: number) => {
      setViewer({ artifactId, line, seq: ++seq.current });
      setTab('artifacts');
    },
    [setTab],
  );

  const openEvent = useCallback(
    async (eventId: number) => {
      try {
        const [e] = await api.call('events.list', { caseId, ids: [eventId], limit: 1 });
        if (!e) throw new Error(`event ${eventId} not found`);
        selectEvent(e);
        openArtifact(e.artifactId, e.line);
        setNavError(undefined);
      } catch (err) {
        setNavError(errorText(err));
      }
    },
    [api, caseId, openArtifact],
  );

  const ctx = useMemo<CaseCtx | undefined>(() => {
    const d = detail.data;
    if (!d) return undefined;
    const hostById = new Map(d.hosts.map((h) => [h.id, h]));
    return {
      caseId,
      detail: d,
      reload: detail.reload,
      zone,
      setZone: (z) => {
        localStorage.setItem('casefile.zone', z);
        setZone(z);
      },
      corrected,
      setCorrected,
      selectedEvent,
      selectEvent,
      viewer,
      openArtifact,
      openEvent,
      annotate: setAnnotating,
      hostName: (id) => (id === undefined ? '(no host)' : (hostById.get(id)?.name ?? `host ${id}`)),
      host: (id) => (id === undefined ? undefined : hostById.get(id)),
      theme,
    };
  }, [detail.data, detail.reload, caseId, zone, corrected, selectedEvent, viewer, openArtifact, openEvent, theme]);

  if (detail.error && !detail.data) return <p className="error page">{detail.error}</p>;
  if (!ctx) return <p className="muted page">Loading case…</p>;
  const c = ctx.detail.case;

  return (
    <CaseContext.Provider value={ctx}>
      <div className="case">
        <div className="case-head row">
          <h1 data-testid="case-title">{visible(c.name)}</h1>
          <span className="muted grow">{visible(c.title)}</span>
          {c.readOnly && <span className="badge">read-only</span>}
          <span className="muted small">
            {ctx.detail.hosts.length} hosts · {ctx.detail.artifacts.length} artifacts · {c.eventCount} events · {ctx.detail.findings.length} findings
          </span>
        </div>
        <nav className="tabs" role="tablist">
          {TABS.map((t, i) => (
            <button key={t} role="tab" aria-selected={t === tab} className={t === tab ? 'active' : ''} onClick={() => setTab(t)} title={`${TAB_LABEL[t]} (${i + 1})`} data-testid={`tab-${t}`}>
              {TAB_LABEL[t]}
              {t === 'findings' && ctx.detail.findings.length > 0 && <span className="count">{ctx.detail.findings.length}</span>}
            </button>
          ))}
        </nav>
        {navError && <p className="error">{navError}</p>}
        {detail.error && <p className="error">{detail.error}</p>}
        <div className="panel" role="tabpanel">
          {tab === 'timeline' && <TimelinePanel />}
          {tab === 'hosts' && <HostsPanel />}
          {tab === 'walkthrough' && <WalkthroughPanel />}
          {tab === 'artifacts' && <ArtifactsPanel />}
          {tab === 'events' && <EventsPanel />}
          {tab === 'findings' && <FindingsPanel />}
          {tab === 'annotations' && <AnnotationsPanel />}
          {tab === 'search' && <SearchPanel />}
          {tab === 'export' && <ExportPanel />}
          {tab === 'charts' && <ChartsPanel />}
        </div>
        {annotating && <AnnotationEditor target={annotating} onClose={() => setAnnotating(undefined)} />}
      </div>
    </CaseContext.Provider>
  );
}
