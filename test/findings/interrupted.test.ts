/**
 * collector.interrupted over step records as the store gives them after a startup recovery: the unrun restore of
 * an intrusive step is reported only once the run has ended interrupted (a live run whose restore is still to
 * come is not), a restore that completed clears it, a failed one does not, and cut-short steps are grouped per host.
 */
import { describe, expect, it } from 'vitest';
import { runRules, type StepRecord } from '../../shared/findings';

const rule = (steps: StepRecord[]) => runRules({ events: [], steps }).filter((f) => f.rule === 'collector.interrupted');
const change = (host: string, over: Partial<StepRecord> = {}): StepRecord => ({ stepId: 'callback-debug', host, status: 'interrupted', command: 'rpcdebug -m nfs -s callback; sleep 60; dmesg', restore: 'sudo rpcdebug -m nfs -c callback', runStatus: 'interrupted', ...over });

describe('collector.interrupted', () => {
  it('names the host left changed and the exact command, once per host', () => {
    const fs = rule([change('client-a'), change('client-b'), { stepId: 'dmesg', host: 'client-a', status: 'ok', runStatus: 'interrupted' }]);
    const high = fs.filter((f) => f.severity === 'high');
    expect(high.map((f) => [f.host, f.title, f.next])).toEqual([
      ['client-a', 'Restore never ran on client-a: the host is still changed by callback-debug', 'Run on client-a: `sudo rpcdebug -m nfs -c callback`.'],
      ['client-b', 'Restore never ran on client-b: the host is still changed by callback-debug', 'Run on client-b: `sudo rpcdebug -m nfs -c callback`.'],
    ]);
    expect(fs.filter((f) => f.severity === 'medium').map((f) => f.title)).toEqual(['Step callback-debug on client-a cut short: Casefile stopped while it ran', 'Step callback-debug on client-b cut short: Casefile stopped while it ran']);
  });

  it('a live run whose restore is still to come is not reported', () => {
    expect(rule([change('client-a', { status: 'ok', runStatus: 'running' })])).toEqual([]);
  });

  it('a completed restore clears it; a failed or cut-short one does not', () => {
    const restore = (status: string): StepRecord => ({ stepId: 'callback-debug.restore', host: 'client-a', status, isRestore: true, runStatus: 'interrupted' });
    const done = change('client-a', { status: 'ok' });
    expect(rule([done, restore('ok')])).toEqual([]);
    expect(rule([done, restore('failed')]).map((f) => f.severity)).toEqual(['high']);
    // The restore itself cut short: still changed, and the restore step is named as cut short.
    const fs = rule([done, restore('interrupted')]);
    expect(fs.map((f) => f.severity)).toEqual(['high', 'medium']);
    // Another host's completed restore does not count for this one.
    expect(rule([done, { ...restore('ok'), host: 'client-b' }]).map((f) => f.host)).toEqual(['client-a']);
  });

  it('several steps cut short on one host make one finding listing them', () => {
    const fs = rule([
      { stepId: 'strace', host: 'h', status: 'interrupted', command: 'strace -p 42', runStatus: 'interrupted' },
      { stepId: 'capture', host: 'h', status: 'interrupted', command: 'tcpdump -w -', runStatus: 'interrupted' },
    ]);
    expect(fs.map((f) => f.title)).toEqual(['2 steps on h cut short: Casefile stopped while they ran']);
    expect(fs[0]!.explanation).toContain('`strace -p 42`, `tcpdump -w -`');
  });
});
