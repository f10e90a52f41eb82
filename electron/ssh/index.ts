/** The SSH layer's public surface (plain Node: never imports electron). */
export { resolveDestination, listConfigHosts, matchPattern, matchPatternList, type ResolvedHost, type ResolveOptions, type ConfigHostEntry, SshConfigError } from './config';
export { parseDestination, parseProxyJump, DestinationSyntaxError, type DestinationParts } from './destination';
export { KnownHosts, fingerprintSha256, keyTypeOfBlob, knownHostsName, hashHostName, type HostKeyCheck, type KnownHostsOptions } from './knownhosts';
export { HostSession, type SessionOptions, type SessionState } from './session';
export { runExec, buildRemoteCommand, renderScript, type Command, type ExecOptions, type ExecResult, type ExecStatus, type StuckEvidence, type RemoteProcess } from './exec';
export { shellQuote, quoteArg, ShellQuoteError } from './quote';
export { runOnHosts, type HostOutcome } from './fanout';
export { SessionPool, routeKey } from './pool';
export { wallNowNs, type ClockMeasurement } from './clock';
export { planAuth, type AuthMethodPlan, type AuthPrompts, type PasswordRequest } from './auth';
export type { ConnectOptions, UnknownHostKeyRequest, HostKeyInfo } from './transport';
export * from './errors';
