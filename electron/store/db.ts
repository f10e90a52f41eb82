import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { homedir, platform } from 'node:os';
import { join } from 'node:path';
import { MIGRATIONS } from './migrations';

export type Db = Database.Database;

/** The data directory: CASEFILE_HOME, else the platform's per-user app data folder. */
export function dataDir(explicit?: string): string {
  if (explicit) return explicit;
  const env = process.env.CASEFILE_HOME;
  if (env) return env;
  switch (platform()) {
    case 'darwin':
      return join(homedir(), 'Library', 'Application Support', 'Casefile');
    case 'win32':
      return join(process.env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'Casefile');
    default:
      return join(process.env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'casefile');
  }
}

export interface OpenOptions {
  readonly readonly?: boolean;
}

/** Open (and migrate) a store file. WAL, foreign keys on, a busy timeout so CLI and app can share it. */
export function openDb(file: string, opts: OpenOptions = {}): Db {
  const db = new Database(file, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
  db.pragma('busy_timeout = 5000');
  if (!opts.readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
  }
  db.pragma('foreign_keys = ON');
  if (!opts.readonly) migrate(db);
  return db;
}

export function openStoreDir(dir?: string): Db {
  const d = dataDir(dir);
  mkdirSync(d, { recursive: true });
  return openDb(join(d, 'casefile.db'));
}

export function migrate(db: Db): void {
  const latest = MIGRATIONS[MIGRATIONS.length - 1]!.version;
  const version = (): number => db.pragma('user_version', { simple: true }) as number;
  const newer = (v: number): Error => new Error(`this store was written by a newer Casefile (schema ${v}, this build knows ${latest})`);
  const current = version();
  if (current > latest) throw newer(current);
  if (current === latest) return; // no lock taken: another process may be writing
  for (const m of MIGRATIONS) {
    // Each migration in an IMMEDIATE transaction that reads the version again: two processes opening an old store
    // at once (the app and a CLI run) then apply it once, the second seeing it done, instead of both running it.
    db.transaction(() => {
      const now = version();
      if (now > latest) throw newer(now);
      if (m.version <= now) return;
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
}
