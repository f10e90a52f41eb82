import { createContext, useContext } from 'react';
import type { CaseDetail, Event, Host } from '../../shared/api/contract';
import type { Zone } from '../timeline/timefmt';

/** What an annotation will be attached to when the editor opens. */
export type AnnotationTarget =
  | { readonly target: 'event'; readonly eventId: number; readonly label: string }
  | { readonly target: 'range'; readonly startNs: string; readonly endNs: string }
  | { readonly target: 'artifact-line'; readonly artifactId: number; readonly line: number; readonly label: string }
  | { readonly target: 'case' };

export interface ViewerTarget {
  readonly artifactId: number;
  readonly line?: number | undefined;
  /** Bumped on every request so asking twice for the same line still scrolls there. */
  readonly seq: number;
}

/** State shared by the panels of one case: the loaded detail, display settings and cross-panel navigation. */
export interface CaseCtx {
  readonly caseId: number;
  readonly detail: CaseDetail;
  reload(): void;
  readonly zone: Zone;
  setZone(z: Zone): void;
  readonly corrected: boolean;
  setCorrected(c: boolean): void;
  readonly selectedEvent: Event | undefined;
  selectEvent(e: Event | undefined): void;
  readonly viewer: ViewerTarget | undefined;
  openArtifact(artifactId: number, line?: number): void;
  openEvent(eventId: number): Promise<void>;
  annotate(t: AnnotationTarget): void;
  hostName(hostId: number | undefined): string;
  host(hostId: number | undefined): Host | undefined;
  readonly theme: 'light' | 'dark';
}

export const CaseContext = createContext<CaseCtx | undefined>(undefined);

export function useCase(): CaseCtx {
  const c = useContext(CaseContext);
  if (!c) throw new Error('useCase outside CaseContext');
  return c;
}
