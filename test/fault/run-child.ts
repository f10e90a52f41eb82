/**
 * Child process for the killed-run fault test: the app's backend running a playbook against a lab host, as the
 * desktop app or `casefile run --yes` would. Prints `STARTED` once the step named `change` has streamed its first
 * output (so the parent kills it mid-step), then waits for the run.
 * Run: node bin/run-ts.mjs test/fault/run-child.ts DB HOME PLAYBOOK_DIR HOST_ALIAS
 */
import { Backend } from '../../electron/api/backend';
import { openDb } from '../../electron/store/db';

const [dbFile, home, playbookDir, alias] = process.argv.slice(2);
if (!dbFile || !home || !playbookDir || !alias) {
  process.stderr.write('usage: run-child.ts DB HOME PLAYBOOK_DIR HOST_ALIAS\n');
  process.exit(2);
}
let announced = false;
const backend = new Backend({
  db: openDb(dbFile),
  dbFile,
  playbookDir,
  home,
  prompts: { onUnknownHostKey: async () => false },
  onOutput: ({ stepKey, chunk }) => {
    if (!announced && stepKey === 'change' && chunk.toString().includes('started')) {
      announced = true;
      process.stdout.write('STARTED\n');
    }
  },
});
const caseId = backend.store.createCase('killed-run').id;
const host = (await backend.call('hosts.add', { caseId, destination: alias })) as { id: number };
const runId = await backend.runner.start({ caseId, playbookId: 'kill-probe', hostIds: [host.id], params: {}, autoConfirm: true, headless: true, roles: {} });
process.stdout.write(`RUN ${runId}\n`);
await backend.runner.wait(runId);
process.stdout.write('DONE\n');
