/**
 * Runs a real playbook through the real runner (Backend → Runner → SSH sessions) against lab hosts, the way
 * the headless CLI does (`casefile run ... --yes`): a fresh SQLite store per run, the lab's HOME for SSH
 * settings, unknown host keys refused (the lab writes known_hosts itself).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDb } from '../../electron/store/db';
import { Backend } from '../../electron/api/backend';
import type { FindingRow, StepRow } from '../../electron/store/store';

const here = path.dirname(fileURLToPath(import.meta.url));
export const PLAYBOOK_DIR = path.resolve(here, '..', '..', 'playbooks');

export interface PlaybookRun {
  readonly backend: Backend;
  readonly caseId: number;
  readonly runId: number;
  readonly hostIds: ReadonlyMap<string, number>;
  /** Resolves when the run has finished. */
  readonly done: Promise<void>;
  steps(): StepRow[];
  findings(): FindingRow[];
  close(): Promise<void>;
}

export async function startPlaybook(o: { home: string; playbookId: string; hosts: readonly string[]; servers?: readonly string[]; params: Record<string, string>; playbookDir?: string }): Promise<PlaybookRun> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'casefile-pblab-'));
  const dbFile = path.join(dir, 'case.db');
  const backend = new Backend({ db: openDb(dbFile), dbFile, playbookDir: o.playbookDir ?? PLAYBOOK_DIR, home: o.home, prompts: { onUnknownHostKey: async () => false } });
  const caseId = backend.store.createCase(`lab-${o.playbookId}-${process.pid}`).id;
  const hostIds = new Map<string, number>();
  for (const alias of o.hosts) {
    const h = (await backend.call('hosts.add', { caseId, destination: alias })) as { id: number };
    hostIds.set(alias, h.id);
  }
  const roles = Object.fromEntries([...hostIds].map(([alias, id]) => [String(id), o.servers?.includes(alias) ? ('server' as const) : ('client' as const)]));
  const runId = await backend.runner.start({ caseId, playbookId: o.playbookId, hostIds: [...hostIds.values()], params: o.params, autoConfirm: true, headless: true, roles });
  const done = backend.runner.wait(runId);
  return {
    backend,
    caseId,
    runId,
    hostIds,
    done,
    steps: () => backend.store.listSteps(caseId, runId),
    findings: () => backend.store.listFindings(caseId),
    close: async () => {
      await backend.dispose();
      backend.store.db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Wall-clock duration of a step in seconds (from the SSH layer's start/end stamps). */
export function durationSec(s: StepRow): number {
  if (s.startedNs === undefined || s.endedNs === undefined) return Number.NaN;
  return Number(s.endedNs - s.startedNs) / 1e9;
}

/** One line per step, for failure messages: key, host, status, exit, seconds, error. */
export function describeSteps(steps: readonly StepRow[]): string {
  return steps.map((s) => `${s.stepKey}@${s.hostId ?? '-'} ${s.status} exit=${s.exitCode ?? '-'} ${durationSec(s).toFixed(1)}s${s.error ? ` (${s.error})` : ''}`).join('\n');
}
