/** Errors the SSH layer raises; each message is written for the on-call engineer reading it. */

export class SshError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The host presented a different key of an algorithm already recorded for it: possible man-in-the-middle. */
export class HostKeyChangedError extends SshError {
  constructor(
    readonly host: string,
    readonly port: number,
    readonly file: string,
    readonly line: number,
    readonly knownFingerprint: string,
    readonly presentedFingerprint: string,
    readonly keyType: string,
  ) {
    super(
      `REMOTE HOST IDENTIFICATION HAS CHANGED for ${host} port ${port}: it presented ${keyType} key ${presentedFingerprint}, ` +
        `but ${file}:${line} records ${knownFingerprint}. Someone could be intercepting the connection, or the host was reinstalled. ` +
        `Nothing was sent to it. If the change is expected, remove line ${line} of ${file} (ssh-keygen -R) and connect again.`,
    );
  }
}

export class HostKeyRevokedError extends SshError {
  constructor(readonly host: string, readonly port: number, readonly file: string, readonly line: number, readonly fingerprint: string) {
    super(`the host key ${fingerprint} of ${host} port ${port} is marked @revoked in ${file}:${line}; connection refused`);
  }
}

/** The key is not in known_hosts and the user (or the policy) did not accept it. */
export class HostKeyNotTrustedError extends SshError {
  constructor(readonly host: string, readonly port: number, readonly fingerprint: string, reason: string) {
    super(`host key of ${host} port ${port} (${fingerprint}) is not known and was not accepted: ${reason}`);
  }
}

export class ConnectTimeoutError extends SshError {
  constructor(readonly host: string, readonly port: number, readonly timeoutSec: number, phase: 'connect' | 'banner exchange' | 'channel open') {
    super(`ssh: connect to host ${host} port ${port}: connection timed out during ${phase} after ${timeoutSec} s (ConnectTimeout)`);
  }
}

/** Name resolution failure, refused or unroutable connection. */
export class HostUnreachableError extends SshError {
  constructor(readonly host: string, readonly port: number, readonly reason: string, readonly code?: string) {
    super(`ssh: connect to host ${host} port ${port}: ${reason}`);
  }
}

export class AuthenticationError extends SshError {
  constructor(readonly user: string, readonly host: string, readonly tried: readonly string[], detail?: string) {
    super(`${user}@${host}: permission denied (tried ${tried.length > 0 ? tried.join(', ') : 'no method'})${detail ? `: ${detail}` : ''}`);
  }
}

export class ConnectionLostError extends SshError {}
