import { closeSync, existsSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { openDb, dataDir } from '../store/db';
import { Backend } from '../api/backend';
import { startServer } from '../server/server';
import { toIso } from '../../shared/model/time';
import type { ParsedEvent } from '../../shared/model/event';
import { createTextParser } from '../../shared/parsers';
import type { ArtifactKind } from '../../shared/parsers/types';
import { detectKind, isArtifactKind, sniffBinaryKind } from '../ingest/ingest';
import { decodeCaptureFile, captureStats } from './capture';
import { rpcJsonLine } from '../../shared/capture/jsonl';
import { exportBundle, importBundle } from '../export/bundle';
import { toJson } from '../store/store';
import { UsageError, bootTime, err, openStore, out, parse, repoRoot } from './common';
import { cmdExec, cmdRun } from './remote';

const USAGE = `casefile — investigate Linux and NFS incidents

Usage:
  casefile parse FILE [--kind auto|dmesg|strace|proc-stack|proc-locks|ps|mountstats|pcap|...] [--boot-time ISO]
  casefile analyze FILE... [--format json|text] [--boot-time ISO]
  casefile stats FILE                      service response time per RPC procedure / NFSv4 op (like tshark -z rpc,srt)
  casefile run PLAYBOOK --host DEST [--host DEST]... [--server DEST]... [--param k=v]... [--case NAME] [--yes] [--accept-host-key SHA256:...]
  casefile exec --host DEST [--case NAME] [--timeout 30s] [--kind K] -- CMD ARG...
  casefile import CASE FILE... [--kind K] [--host NAME] [--boot-time ISO]
  casefile export CASE --format md|html|bundle -o FILE [--redact]
  casefile cases
  casefile serve [--port N] [--open]

DEST is as in OpenSSH: an alias from ~/.ssh/config, or [user@]host[:port].
Data directory: --data-dir DIR, or CASEFILE_HOME (default: ${dataDir()}).
`;

export async function main(argv: readonly string[]): Promise<number> {
  // `casefile parse big.pcap | head`: the reader left; stop quietly, as Unix tools do.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
  });
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'parse':
        return await cmdParse(rest);
      case 'analyze':
        return await cmdAnalyze(rest);
      case 'stats':
        return await cmdStats(rest);
      case 'run':
        return await cmdRun(rest);
      case 'exec':
        return await cmdExec(rest);
      case 'import':
        return await cmdImport(rest);
      case 'export':
        return await cmdExport(rest);
      case 'cases':
        return cmdCases(rest);
      case 'serve':
        return await cmdServe(rest);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        out(USAGE);
        return cmd === undefined ? 2 : 0;
      default:
        err(`casefile: unknown command ${JSON.stringify(cmd)}\n`);
        err(USAGE);
        return 2;
    }
  } catch (e) {
    if (e instanceof UsageError) {
      err(`casefile ${cmd}: ${e.message}`);
      return 2;
    }
    err(`casefile ${cmd}: ${(e as Error).message}`);
    if (process.env.CASEFILE_DEBUG) err((e as Error).stack ?? '');
    return 1;
  }
}

/** One JSON object per line. Captures: one line per RPC call in the shape DESIGN.md fixes (rpcJsonLine). */
export function eventJson(e: ParsedEvent): Record<string, unknown> {
  const rpc = rpcJsonLine(e);
  if (rpc) return { ...rpc };
  return {
    kind: e.kind,
    ts: e.ts === undefined ? undefined : toIso(e.ts, 9),
    ts_raw: e.tsRaw,
    clock: e.clock,
    duration_ms: e.durationNs === undefined ? undefined : Number(e.durationNs) / 1e6,
    line: e.line,
    end_line: e.endLine,
    pid: e.pid,
    level: e.level,
    text: e.text,
    data: e.data,
  };
}

function readHead(file: string, n: number): Uint8Array {
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(n);
    const got = readSync(fd, b, 0, n, 0);
    return b.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

async function cmdParse(args: readonly string[]): Promise<number> {
  const { values, positionals } = parse(args, { kind: { type: 'string' }, 'boot-time': { type: 'string' } });
  if (positionals.length !== 1) throw new UsageError('parse takes exactly one FILE');
  const file = positionals[0]!;
  if (!existsSync(file)) throw new Error(`${file}: no such file`);
  const kindArg = values.kind ?? 'auto';
  if (kindArg !== 'auto' && !isArtifactKind(kindArg)) throw new UsageError(`unknown --kind ${kindArg}`);
  const kind: ArtifactKind = kindArg === 'auto' ? detectKind(readHead(file, 256 * 1024)) : kindArg;
  const print = (e: ParsedEvent) => out(toJson(eventJson(e)));
  if (kind === 'pcap') {
    const summary = await decodeCaptureFile(file, print);
    for (const w of summary.warnings) err(`casefile parse: warning: ${w}`);
    return 0;
  }
  if (kind === 'binary') throw new Error(`${file}: binary content that is not a capture; nothing to parse (use --kind to force a parser)`);
  if (kind === 'text') err(`casefile parse: ${basename(file)}: no parser recognises this content; printing nothing (use --kind)`);
  const parser = createTextParser(kind, { bootTimeNs: bootTime(values['boot-time']) }, print);
  if (!parser) return 0;
  await streamLines(file, (line, n) => parser.line(line, n));
  parser.end();
  return 0;
}

async function streamLines(file: string, onLine: (line: string, lineNo: number) => void): Promise<void> {
  const { createReadStream } = await import('node:fs');
  const dec = new TextDecoder('utf-8', { fatal: false });
  let carry = '';
  let n = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    const text = carry + dec.decode(chunk as Buffer, { stream: true });
    const parts = text.split('\n');
    carry = parts.pop() ?? '';
    for (const p of parts) onLine(p.endsWith('\r') ? p.slice(0, -1) : p, ++n);
  }
  const tail = carry + dec.decode();
  if (tail.length) onLine(tail.endsWith('\r') ? tail.slice(0, -1) : tail, ++n);
}

/** An ad-hoc in-memory case: import the files, run the rules, print the findings. */
async function cmdAnalyze(args: readonly string[]): Promise<number> {
  const { values, positionals } = parse(args, { format: { type: 'string' }, 'boot-time': { type: 'string' }, host: { type: 'string', multiple: true } });
  if (positionals.length === 0) throw new UsageError('analyze needs at least one FILE');
  const format = values.format ?? 'text';
  if (format !== 'json' && format !== 'text') throw new UsageError('--format is json or text');
  const db = openDb(':memory:');
  const backend = new Backend({ db });
  try {
    const c = backend.store.createCase('analyze');
    const boot = bootTime(values['boot-time']);
    for (const [i, file] of positionals.entries()) {
      if (!existsSync(file)) throw new Error(`${file}: no such file`);
      // --host A --host B names the host of each file in order (for cross-host rules).
      const hostName = values.host?.[i];
      await backend.importArtifact(c.id, basename(file), readFileSync(file), { hostName, bootTimeNs: boot });
    }
    const findings = backend.analyze(c.id);
    const arr = findings.map((f) => ({ rule: f.rule, title: f.title, severity: f.severity, explanation: f.explanation, next: f.next, evidence: f.evidence }));
    if (format === 'json') out(toJson(arr));
    else if (arr.length === 0) out('No findings.');
    else
      for (const f of arr) {
        out(`[${f.severity}] ${f.rule}: ${f.title}`);
        for (const e of f.evidence.slice(0, 5)) out(`    ${typeof e === 'object' && e && 'summary' in e ? String((e as { summary: unknown }).summary) : JSON.stringify(e)}`);
      }
    const partial = backend.store.listArtifacts(c.id).filter((a) => a.parseStatus === 'partial' || a.parseStatus === 'failed');
    for (const a of partial) err(`casefile analyze: ${a.name}: ${a.parseStatus}: ${a.parseWarnings.join('; ')}`);
    return 0;
  } finally {
    await backend.dispose();
    db.close();
  }
}

async function cmdStats(args: readonly string[]): Promise<number> {
  const { positionals } = parse(args, {});
  if (positionals.length !== 1) throw new UsageError('stats takes exactly one capture FILE');
  const file = positionals[0]!;
  if (!existsSync(file)) throw new Error(`${file}: no such file`);
  const head = readHead(file, 4096);
  if (!sniffBinaryKind(head)) throw new Error(`${file}: not a pcap/pcapng capture (detected by content)`);
  out(await captureStats(file));
  return 0;
}

async function cmdImport(args: readonly string[]): Promise<number> {
  const { values, positionals } = parse(args, { kind: { type: 'string' }, host: { type: 'string' }, 'boot-time': { type: 'string' } });
  if (positionals.length < 2) throw new UsageError('import needs CASE and at least one FILE');
  const [caseName, ...files] = positionals as [string, ...string[]];
  const { db, file } = openStore(values);
  const backend = new Backend({ db, dbFile: file });
  try {
    if (files.length === 1 && files[0]!.endsWith('.casefile')) {
      const r = importBundle(backend.store, files[0]!, caseName);
      out(`imported bundle as case ${r.name} (${r.artifacts} artifacts, ${r.events} events; integrity verified)`);
      return 0;
    }
    const c = backend.store.ensureCase(caseName);
    for (const f of files) {
      if (!existsSync(f)) throw new Error(`${f}: no such file`);
      const a = await backend.importArtifact(c.id, basename(f), readFileSync(f), { kind: values.kind, hostName: values.host, bootTimeNs: bootTime(values['boot-time']) });
      out(`${f}: ${a.kind}, ${a.eventCount} events, ${a.parseStatus}${a.parseWarnings.length ? ` (${a.parseWarnings.slice(0, 3).join('; ')})` : ''}`);
    }
    return 0;
  } finally {
    await backend.dispose();
    db.close();
  }
}

async function cmdExport(args: readonly string[]): Promise<number> {
  const { values, positionals } = parse(args, { format: { type: 'string' }, o: { type: 'string', short: 'o' }, output: { type: 'string' }, redact: { type: 'boolean' } });
  if (positionals.length !== 1) throw new UsageError('export takes exactly one CASE');
  const format = values.format ?? 'md';
  const dest = values.o ?? values.output;
  if (!['md', 'html', 'bundle'].includes(format)) throw new UsageError('--format is md, html or bundle');
  const { db, file } = openStore(values);
  const backend = new Backend({ db, dbFile: file });
  try {
    const c = backend.store.findCase(positionals[0]!);
    if (!c) throw new Error(`no case ${JSON.stringify(positionals[0])} in ${dataDir(values['data-dir'])} (see: casefile cases)`);
    if (format === 'bundle') {
      if (!dest) throw new UsageError('a bundle needs -o FILE.casefile');
      const r = exportBundle(backend.store, c.id, dest, { redact: values.redact ?? false });
      err(`casefile: wrote ${dest} (${r.bytes} bytes, sha256 ${r.sha256})`);
      return 0;
    }
    const r = (await backend.call('export.report', { caseId: c.id, format })) as { content: string };
    if (dest) writeFileSync(dest, r.content);
    else out(r.content);
    return 0;
  } finally {
    await backend.dispose();
    db.close();
  }
}

function cmdCases(args: readonly string[]): number {
  const { values } = parse(args, { format: { type: 'string' } });
  const { db } = openStore(values);
  try {
    const backend = new Backend({ db });
    const cases = backend.store.listCases();
    if (values.format === 'json') out(toJson(cases));
    else if (cases.length === 0) out('No cases yet.');
    else for (const c of cases) out(`${c.name}\t${toIso(c.createdNs, 0)}\t${c.hostCount} hosts\t${c.artifactCount} artifacts\t${c.eventCount} events\t${c.findingCount} findings${c.readOnly ? '\tread-only' : ''}`);
    return 0;
  } finally {
    db.close();
  }
}

async function cmdServe(args: readonly string[]): Promise<number> {
  const { values } = parse(args, { port: { type: 'string' }, open: { type: 'boolean' }, 'static-dir': { type: 'string' } });
  const { db, file } = openStore(values);
  const backend = new Backend({ db, dbFile: file, playbookDir: join(repoRoot, 'playbooks') });
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port must be 0..65535');
  const server = await startServer({ backend, port, staticDir: values['static-dir'] ?? join(repoRoot, 'dist', 'renderer') });
  // Artifacts a killed previous run left half-done are parsed again or reported, never left 'pending' forever.
  void backend.recoverInterrupted().catch((e: unknown) => err(`casefile serve: recovering interrupted ingests failed: ${e instanceof Error ? e.message : String(e)}`));
  out(`Casefile browser mode: ${server.url}`);
  err(`  data: ${file}\n  bound to 127.0.0.1 only; the token in the URL is required for every API call. Ctrl-C to stop.`);
  if (values.open) {
    const { spawn } = await import('node:child_process');
    for (const b of ['xdg-open', 'open']) {
      try {
        spawn(b, [server.url], { stdio: 'ignore', detached: true }).on('error', () => {}).unref();
        break;
      } catch {
        // try the next opener
      }
    }
  }
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  await backend.dispose();
  db.close();
  return 0;
}
