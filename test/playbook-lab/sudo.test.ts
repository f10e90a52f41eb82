/**
 * A `sudo: true` step reached as an unprivileged user whose sudo wants a password: the step must say "needs
 * root" (never hang on a prompt, never pass as a clean result because its exit status 1 is one ok_exit
 * accepts), and the run goes on. Real pieces: a real OpenSSH server on loopback, a real user account created
 * for the test (no sudoers entry, so `sudo -n` refuses), Debian's sudo, the real runner and store.
 * Requires root (creates and removes the user) and the sudo package; CI runs as root and installs it.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSshd, type SshdLab } from '../lab/sshd';
import { describeSteps, startPlaybook } from './harness';

const user = `cfnr${randomBytes(3).toString('hex')}`;
let lab: SshdLab;
let pbDir: string;
let created = false;

const PLAYBOOK = `id: sudo-probe
title: Who runs the steps
summary: One step as the SSH user, one that needs root and accepts exit 1 (like grep finding nothing).
symptoms:
  - test
steps:
  - id: who
    title: The SSH user
    why: Names the account the steps run as.
    run:
      argv: [id, -un]
    timeout: 10s
    captures: text
  - id: shadow
    title: A file only root can read
    why: Needs root; grep exits 1 when the user has no entry, which is fine.
    run:
      argv: [grep, -c, "^root:", /etc/shadow]
    sudo: true
    ok_exit: [0, 1]
    timeout: 10s
    captures: text
  - id: after
    title: The run goes on
    why: A refused sudo step does not end the run.
    run:
      argv: [echo, still-here]
    timeout: 10s
    captures: text
`;

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('sudo test: must run as root (creates a user account); CI runs as root');
  if (!existsSync('/usr/bin/sudo')) throw new Error('sudo test: /usr/bin/sudo missing: apt-get install sudo');
  // '*' (not '!'): no password can match, but the account is not locked, so sshd accepts its key.
  const r = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/bin/sh', '--password', '*', user], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`useradd ${user}: ${r.stderr}`);
  created = true;
  lab = await startSshd({ alias: 'web-nr' });
  // sshd reads the authorized keys as the target user: let the new account read the lab's file.
  chmodSync(lab.dir, 0o755);
  chmodSync(path.join(lab.dir, 'authorized_keys'), 0o644);
  writeFileSync(lab.configPath, readFileSync(lab.configPath, 'utf8').replace(/^(\s*User) .*$/m, `$1 ${user}`));
  pbDir = mkdtempSync(path.join(os.tmpdir(), 'casefile-pb-'));
  writeFileSync(path.join(pbDir, 'sudo-probe.yaml'), PLAYBOOK);
});

afterAll(async () => {
  await lab?.stop();
  await lab?.cleanup();
  if (pbDir) rmSync(pbDir, { recursive: true, force: true });
  if (created) spawnSync('userdel', [user]);
});

describe('a sudo step as a user without passwordless sudo', () => {
  it('is recorded as needs-root with the reason, at once, and the run goes on', async () => {
    const run = await startPlaybook({ home: lab.home, playbookId: 'sudo-probe', hosts: ['web-nr'], params: {}, playbookDir: pbDir });
    try {
      await run.done;
      const steps = run.steps();
      const by = (k: string) => steps.find((s) => s.stepKey === k);
      expect(by('who')?.status, describeSteps(steps)).toBe('ok');
      const who = run.backend.store.readArtifact(run.backend.store.listArtifacts(run.caseId).find((a) => a.stepId === by('who')!.id && a.stream === 'stdout')!.id).toString();
      expect(who.trim()).toBe(user);
      const shadow = by('shadow')!;
      expect(shadow.status, describeSteps(steps)).toBe('needs-root');
      expect(shadow.exitCode).toBe(1);
      expect(shadow.error).toMatch(/needs root: .*sudo -n wants a password/);
      // sudo -n refuses at once instead of waiting for a password nobody will type.
      expect(Number(shadow.endedNs! - shadow.startedNs!) / 1e9).toBeLessThan(5);
      // The command line went through sudo -n only because the user is not root.
      expect(shadow.command).toMatch(/sudo -n/);
      expect(by('after')?.status).toBe('ok');
    } finally {
      await run.close();
    }
  }, 60_000);
});
