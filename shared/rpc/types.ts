/** Public shapes of a decoded ONC RPC exchange (one call with its reply, when captured). */

/** Known programs by name; anything else is the program number in decimal. */
export type RpcProgramName = 'portmap' | 'mount' | 'nfs' | 'nlm' | 'nsm' | 'nfs_cb' | `${number}`;

export interface RpcCred {
  /** AUTH_NONE, AUTH_SYS, RPCSEC_GSS, ... (RFC 5531 §8.2, RFC 2203). */
  readonly flavor: string;
  readonly machine?: string;
  readonly uid?: number;
  readonly gid?: number;
  readonly gids?: readonly number[];
  /** RPCSEC_GSS: gss_proc (DATA, INIT...), service (none/integrity/privacy), sequence number. */
  readonly gssProc?: string;
  readonly gssService?: string;
  readonly gssSeq?: number;
}

/** `data` of a ParsedEvent of kind 'rpc'. JSON-serialisable: 64-bit values and nanosecond instants are strings. */
export interface RpcData {
  readonly xid: number;
  readonly program: RpcProgramName;
  readonly programNumber: number;
  readonly version: number;
  /** Upper-case protocol name of the procedure: GETATTR, LOCK, COMPOUND, SM_NOTIFY, CB_COMPOUND, NULL... */
  readonly procedure: string;
  readonly procedureNumber: number;
  /** NFSv4 COMPOUND / CB_COMPOUND: operation names in call order. */
  readonly ops?: readonly string[];
  /** NFSv4: per-operation status names in reply order (shorter than ops when the server stopped at an error). */
  readonly opStatuses?: readonly string[];
  /** Reply status: the program's status name (NFS3_OK, NFS4ERR_DELAY, NLM4_DENIED...), SUCCESS for a void result,
   * or the RPC accept/deny status (PROG_UNAVAIL, AUTH_ERROR...) when the call was not executed. Absent without a reply. */
  readonly status?: string;
  /** Numeric program status behind `status` when the program returned one. */
  readonly statusCode?: number;
  readonly latencyMs?: number;
  /** "ip:port" of the caller and of the callee (for a callback, the NFS server is the client). */
  readonly client: string;
  readonly server: string;
  readonly callFrame?: number;
  readonly replyFrame?: number;
  /** Reply instant, ns since epoch as a decimal string. */
  readonly replyTs?: string;
  readonly noReply?: boolean;
  readonly orphanReply?: boolean;
  /** Same XID seen again on the same conversation before the reply: frame of the first call. */
  readonly retransmitOf?: number;
  readonly transport: 'tcp' | 'udp';
  readonly cred?: RpcCred;
  /** Byte offset of the call frame's record in the (decompressed) capture, for readPacketAt. */
  readonly frameOffset?: number;
  readonly replyFrameOffset?: number;
  /** The call or reply ended before its XDR did (snaplen, fuzzed data): decoded fields are partial. */
  readonly truncated?: boolean;
  /** Protocol-specific decoded fields. */
  readonly detail: Readonly<Record<string, unknown>>;
}

export interface CaptureSummary {
  readonly format: 'pcap' | 'pcapng' | 'unknown';
  readonly gzip: boolean;
  readonly frames: number;
  readonly bytes: number;
  readonly rpcCalls: number;
  readonly rpcReplies: number;
  readonly matched: number;
  readonly noReply: number;
  readonly orphanReplies: number;
  readonly tcpGaps: number;
  readonly tcpRetransmissions: number;
  readonly malformed: number;
  readonly ipFragmentsReassembled: number;
  readonly firstTs?: string;
  readonly lastTs?: string;
  /** Non-empty => the result is partial (truncated file, gaps, undecodable records). */
  readonly warnings: readonly string[];
  readonly partial: boolean;
}
