import { ipOf, str, type Ctx, type Ix } from './context';

/**
 * Which case host an IP address belongs to, learnt only from the case's own evidence, so that a finding
 * about "10.231.0.13" (from a capture) and one about "lab-c" (from lab-c's own `rpcinfo -p`) can be seen to
 * be about the same machine. Each source is a fact, not a guess:
 *
 * 1. a host whose name is an IP literal;
 * 2. NLM calls carry the client's `caller_name` (RFC 1813 / XNFS nlm4_lock.caller_name: the client's node
 *    name): the calling address belongs to the case host of that name;
 * 3. a host's own `rpcinfo -p` lists (program, protocol, port) registrations; a call to that program on that
 *    port, other than the fixed ports 111 (rpcbind) and 2049 (nfs) every server shares, in a capture taken on
 *    that host, was answered by that host;
 * 4. every packet of a capture taken on a host has that host at one end: the address common to all calls of
 *    the capture is the host's, once the other candidates are known to be someone else's.
 *
 * An address claimed by two hosts is dropped: no answer is better than a wrong merge.
 */
export interface AddressBook {
  /** The case host that owns this address (an IP or "ip:port"), when the evidence says so. */
  hostOf(addr: string): string | undefined;
  /** One key per machine: the case host owning the address, else its IP (the port dropped). */
  machine(addr: string): string;
  /** Addresses of a case host seen in the case's captures, sorted. */
  addressesOf(host: string): readonly string[];
  /** "lab-c (10.231.0.13)" for a host or an address when both are known, else what is known. */
  label(hostOrAddr: string): string;
}

const FIXED_PORTS = new Set([111, 2049]);
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const IPV6 = /^[0-9a-fA-F:]+:[0-9a-fA-F:]*$/;

function isIp(s: string): boolean {
  return IPV4.test(s) || (s.includes(':') && IPV6.test(s));
}

export function isLoopback(ip: string | undefined): boolean {
  return ip !== undefined && (ip.startsWith('127.') || ip === '::1');
}

function portOf(endpoint: string): number | undefined {
  const m = /:(\d+)$/.exec(endpoint);
  return m ? Number(m[1]) : undefined;
}

/** Listings in an `rpcinfo -p` artifact that are the artifact host's own (see rpcinfoListings). */
export interface Listing {
  readonly host: string;
  /** Who was queried: the artifact host for a plain local `rpcinfo -p`, else undefined (unknown). */
  readonly target: string | undefined;
  readonly rows: readonly Ix[];
  readonly progs: ReadonlySet<number>;
}

/**
 * Registration rows of rpcinfo artifacts, split into listings (rows on consecutive lines; a header or a
 * comment between them starts a new one). A listing whose rows begin on line 2 or earlier is the plain
 * output of `rpcinfo -p` (the column header, then rows): the queried rpcbind is the artifact host's own.
 * One that starts later was preceded by something (`# rpcinfo -p SERVER` in a script that queries remote
 * servers): its target is only known when the parser names it (data.target).
 */
export function rpcinfoListings(ctx: Ctx): Listing[] {
  const out: Listing[] = [];
  let cur: { host: string; artifact: string; named: string | undefined; target: string | undefined; rows: Ix[]; progs: Set<number>; last: number } | undefined;
  const rows = ctx.of('service').filter((x) => typeof x.e.data.program === 'number' && typeof x.e.data.port === 'number' && x.e.data.ready === undefined);
  for (const x of rows) {
    const line = x.e.line ?? 0;
    const artifact = `${x.host}\u0000${String(x.e.artifact ?? '')}`;
    const target = str(x.e, 'target', 'server', 'address');
    if (!cur || cur.artifact !== artifact || line !== cur.last + 1 || cur.named !== target) {
      if (cur) out.push(cur);
      const local = x.host !== '' && target === undefined && line > 0 && line <= 2;
      cur = { host: x.host, artifact, named: target, target: target ?? (local ? x.host : undefined), rows: [], progs: new Set(), last: line };
    }
    cur.rows.push(x);
    cur.progs.add(x.e.data.program as number);
    cur.last = line;
  }
  if (cur) out.push(cur);
  return out;
}

const cache = new WeakMap<Ctx, AddressBook>();

export function addressBook(ctx: Ctx): AddressBook {
  let b = cache.get(ctx);
  if (!b) {
    b = build(ctx);
    cache.set(ctx, b);
  }
  return b;
}

function build(ctx: Ctx): AddressBook {
  const hosts = ctx.hosts();
  const shortName = (n: string): string => n.split('.')[0]!.toLowerCase();
  const byShort = new Map<string, string | undefined>();
  for (const h of hosts) byShort.set(shortName(h), byShort.has(shortName(h)) ? undefined : h);
  const claims = new Map<string, Set<string>>();
  const claim = (ip: string | undefined, host: string): void => {
    if (!ip || isLoopback(ip)) return;
    const s = claims.get(ip) ?? new Set<string>();
    s.add(host);
    claims.set(ip, s);
  };
  // 1. host names that are addresses
  for (const h of hosts) if (isIp(h)) claim(h, h);
  const rpc = ctx.rpc();
  // 2. NLM caller_name
  for (const x of rpc) {
    const d = x.e.data;
    const detail = d.detail && typeof d.detail === 'object' ? (d.detail as Record<string, unknown>) : {};
    if (d.program !== 'nlm' || typeof detail.caller_name !== 'string' || typeof d.client !== 'string') continue;
    const h = byShort.get(shortName(detail.caller_name));
    if (h) claim(ipOf(d.client), h);
  }
  // 3. local rpcinfo registrations matched with the server port of calls captured on that same host (a
  //    port such as 32803 is pinned for lockd on many hosts: a match in someone else's capture proves nothing)
  const named = new Map([...claims].filter(([, s]) => s.size === 1).map(([ip, s]) => [ip, [...s][0]!]));
  for (const l of rpcinfoListings(ctx)) {
    if (l.target === undefined || l.target !== l.host) continue;
    const ports = new Set(l.rows.filter((r) => !FIXED_PORTS.has(r.e.data.port as number)).map((r) => `${String(r.e.data.program)}/${String(r.e.data.port)}`));
    for (const x of rpc) {
      const { server, client, programNumber } = x.e.data;
      if (typeof server !== 'string' || typeof client !== 'string' || typeof programNumber !== 'number') continue;
      if (!ctx.capturedOn(x).includes(l.host) || named.get(ipOf(client) ?? '') === l.host) continue;
      if (ports.has(`${programNumber}/${portOf(server) ?? ''}`)) claim(ipOf(server), l.host);
    }
  }
  const resolved = (): Map<string, string> => new Map([...claims].filter(([, s]) => s.size === 1).map(([ip, s]) => [ip, [...s][0]!]));
  // 4. the address every call of a host's capture shares, once the other candidates belong to other hosts
  const common = new Map<string, Set<string>>();
  for (const x of rpc) {
    if (x.host === '') continue;
    const k = `${x.host}\u0000${String(x.e.artifact ?? '')}`;
    const ends = new Set([ipOf(String(x.e.data.client ?? '')), ipOf(String(x.e.data.server ?? ''))].filter((a): a is string => !!a && !isLoopback(a)));
    if (ends.size === 0) continue;
    const cur = common.get(k);
    common.set(k, cur ? new Set([...cur].filter((a) => ends.has(a))) : ends);
  }
  const known = resolved();
  for (const [k, ips] of common) {
    const host = k.split('\u0000')[0]!;
    const open = [...ips].filter((ip) => known.get(ip) === undefined || known.get(ip) === host);
    if (open.length === 1) claim(open[0], host);
  }
  const owner = resolved();
  const addrs = new Map<string, string[]>();
  for (const [ip, h] of owner) addrs.set(h, [...(addrs.get(h) ?? []), ip].sort());
  const hostOf = (addr: string): string | undefined => (hosts.has(addr) ? addr : owner.get(ipOf(addr) ?? addr));
  return {
    hostOf,
    machine: (a) => hostOf(a) ?? ipOf(a) ?? a,
    addressesOf: (h) => addrs.get(h) ?? [],
    label(s) {
      const h = hostOf(s);
      if (h === undefined) return s;
      const a = (addrs.get(h) ?? []).filter((ip) => ip !== h);
      return a.length ? `${h} (${a.join(', ')})` : h;
    },
  };
}
