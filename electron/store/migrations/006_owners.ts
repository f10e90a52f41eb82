// Migration 6: who is working on a row still in progress, and what undoes an intrusive step.
// - runs/steps/artifacts.owner: the process that created the row (electron/store/owner.ts). At startup, runs and
//   steps still 'running' and artifacts still 'pending' whose owner has exited are recovered; those of a live
//   process (another Casefile sharing the data directory) are left alone.
// - steps.restore: the exact restore command of an intrusive step, recorded when the step starts, so that a run
//   cut short by a crash can still say which host was left changed and what to run to undo it.
// - runs.playbook_yaml: the playbook exactly as the run used it, so a past run (or one in a bundle from another
//   team) still shows every step with why it ran, whatever became of the file since.
export const sql = String.raw`
ALTER TABLE runs ADD COLUMN owner TEXT;
ALTER TABLE runs ADD COLUMN playbook_yaml TEXT;
ALTER TABLE steps ADD COLUMN owner TEXT;
ALTER TABLE steps ADD COLUMN restore TEXT;
ALTER TABLE artifacts ADD COLUMN owner TEXT;
`;
