/**
 * The owner token (electron/store/owner.ts) of a real process that has exited: a `sleep` started here, its token
 * read while it runs, then killed by its PID and reaped. Rows stamped with it look exactly like rows a killed
 * Casefile process left behind, for tests that build such a store directly rather than by killing a child
 * mid-write.
 */
import { spawn } from 'node:child_process';
import { ownerOf } from '../../electron/store/owner';

export async function exitedOwner(): Promise<string> {
  const p = spawn('sleep', ['30'], { stdio: 'ignore' });
  if (p.pid === undefined) throw new Error('could not start sleep');
  const exited = new Promise<void>((resolve) => p.on('exit', () => resolve()));
  const owner = ownerOf(p.pid);
  p.kill('SIGKILL');
  await exited;
  if (!owner) throw new Error(`no owner token for pid ${p.pid}`);
  return owner;
}
