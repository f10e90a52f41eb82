import type Database from 'better-sqlite3';
import { createHash } from 'node:crypto';

/**
 * Redaction for bundles that leave the team: host names, IP addresses and user names are replaced by
 * stable pseudonyms (the same value always maps to the same pseudonym, so the evidence still correlates).
 * Text artifacts are rewritten (and re-hashed: the manifest states the redacted hash); capture bytes cannot
 * be rewritten safely (checksums, embedded addresses in RPC bodies), so their raw bytes are withheld and
 * only their redacted decoded events travel. The bundle records that it is redacted.
 */
const IPV4 = /\b(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}\b/g;
const IPV6 = /\b(?:[0-9a-f]{1,4}:){2,7}[0-9a-f]{1,4}\b/gi;

export class Redactor {
  private readonly names = new Map<string, string>();
  private readonly ips = new Map<string, string>();
  private readonly users = new Map<string, string>();

  private ip(addr: string): string {
    if (addr === '127.0.0.1' || addr === '0.0.0.0') return addr;
    let v = this.ips.get(addr);
    if (!v) {
      const n = this.ips.size + 1;
      // Documentation ranges (RFC 5737) first, so a redacted address is obviously not a real one.
      const nets = ['192.0.2', '198.51.100', '203.0.113'];
      v = n <= 762 ? `${nets[Math.floor((n - 1) / 254)]}.${((n - 1) % 254) + 1}` : `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
      this.ips.set(addr, v);
    }
    return v;
  }

  private ip6(addr: string): string {
    let v = this.ips.get(addr.toLowerCase());
    if (!v) {
      v = `2001:db8::${(this.ips.size + 1).toString(16)}`;
      this.ips.set(addr.toLowerCase(), v);
    }
    return v;
  }

  addHost(name: string | null | undefined): void {
    if (!name || name.length < 2 || /^\d+(\.\d+){3}$/.test(name)) return;
    if (!this.names.has(name)) this.names.set(name, `host-${this.names.size + 1}`);
  }

  addUser(user: string | null | undefined): void {
    if (!user || user === 'root' || user.length < 2) return;
    if (!this.users.has(user)) this.users.set(user, `user-${this.users.size + 1}`);
  }

  text(s: string): string {
    let out = s;
    // Longest names first so "lab-a.example" is replaced before "lab-a".
    for (const [k, v] of [...this.names].sort((a, b) => b[0].length - a[0].length)) out = out.split(k).join(v);
    for (const [k, v] of [...this.users].sort((a, b) => b[0].length - a[0].length)) out = out.replace(new RegExp(`(?<![\\w-])${k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w-])`, 'g'), v);
    out = out.replace(IPV4, (m) => this.ip(m));
    out = out.replace(IPV6, (m) => (m.includes('::') || m.split(':').length >= 3 ? this.ip6(m) : m));
    return out;
  }

  /** Rewrite a bundle database in place. */
  apply(db: Database.Database): void {
    for (const h of db.prepare('SELECT name, destination, hostname, user FROM hosts').all() as Record<string, string | null>[]) {
      this.addHost(h.name);
      this.addHost(h.hostname);
      const d = h.destination ?? '';
      const at = d.indexOf('@');
      if (at > 0) this.addUser(d.slice(0, at));
      this.addHost(at > 0 ? d.slice(at + 1).split(':')[0] : d.split(':')[0]);
      this.addUser(h.user);
    }
    const cols: Record<string, string[]> = {
      hosts: ['name', 'destination', 'hostname', 'user', 'jump_chain', 'host_key_fp'],
      runs: ['params_json', 'playbook_yaml'],
      steps: ['command', 'display', 'title', 'error', 'stuck_json', 'restore'],
      artifacts: ['name', 'argv_json', 'parse_warnings'],
      events: ['text', 'data_json', 'ts_raw'],
      findings: ['title', 'explanation', 'evidence_json', 'next'],
      annotations: ['body'],
      annotation_history: ['body'],
      cases: ['title'],
    };
    db.transaction(() => {
      for (const [table, cs] of Object.entries(cols)) {
        const rows = db.prepare(`SELECT rowid AS rid, ${cs.join(', ')} FROM ${table}`).all() as Record<string, unknown>[];
        const upd = db.prepare(`UPDATE ${table} SET ${cs.map((c) => `${c} = ?`).join(', ')} WHERE rowid = ?`);
        for (const r of rows) upd.run(...cs.map((c) => (typeof r[c] === 'string' ? this.text(r[c] as string) : r[c])), r.rid);
      }
      // events_fts is external-content: rebuild it from the redacted rows.
      db.exec("INSERT INTO events_fts (events_fts) VALUES ('rebuild')");
      db.exec('DELETE FROM artifacts_fts');
      const arts = db.prepare('SELECT id, is_text, kind FROM artifacts').all() as { id: number; is_text: number; kind: string }[];
      const chunks = db.prepare('SELECT data FROM artifact_chunks WHERE artifact_id = ? ORDER BY seq').pluck();
      const del = db.prepare('DELETE FROM artifact_chunks WHERE artifact_id = ?');
      const delLines = db.prepare('DELETE FROM artifact_lines WHERE artifact_id = ?');
      const insChunk = db.prepare('INSERT INTO artifact_chunks (artifact_id, seq, data) VALUES (?, ?, ?)');
      const updArt = db.prepare("UPDATE artifacts SET size = ?, sha256 = ?, parse_warnings = json_insert(coalesce(parse_warnings, '[]'), '$[#]', ?) WHERE id = ?");
      const insFts = db.prepare('INSERT INTO artifacts_fts (rowid, name, body) SELECT id, name, ? FROM artifacts WHERE id = ?');
      for (const a of arts) {
        const parts = chunks.all(a.id) as Buffer[];
        let bytes: Buffer;
        let note: string;
        if (a.is_text === 1 && a.kind !== 'pcap') {
          const text = this.text(Buffer.concat(parts).toString('utf8'));
          bytes = Buffer.from(text, 'utf8');
          insFts.run(text, a.id);
          note = 'redacted on export: names, addresses and users replaced; sha256 is of the redacted text';
        } else {
          bytes = Buffer.from(`(raw bytes withheld: bundle exported with redaction; ${Buffer.concat(parts).length} bytes in the original)\n`);
          note = 'redacted on export: raw bytes withheld, decoded events kept (redacted)';
        }
        del.run(a.id);
        delLines.run(a.id);
        for (let off = 0, seq = 0; off < bytes.length || seq === 0; off += 1 << 20, seq++) insChunk.run(a.id, seq, bytes.subarray(off, off + (1 << 20)));
        updArt.run(bytes.length, createHash('sha256').update(bytes).digest('hex'), note, a.id);
      }
    })();
  }
}
