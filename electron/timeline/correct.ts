/**
 * Clock correction: an event's time as its host stated it, minus that host's measured clock offset
 * (remote − local, taken at connection) and the user's manual adjustment. Events without a host
 * (imported files) are shown as stated.
 */
export function correctedTime(
  e: { readonly tsNs?: bigint | undefined; readonly clock: string },
  host: { readonly clockOffsetNs?: bigint | undefined; readonly clockAdjustNs: bigint } | undefined,
): bigint | undefined {
  if (e.tsNs === undefined) return undefined;
  if (!host || e.clock === 'collector' || e.clock === 'none') return e.tsNs;
  return e.tsNs - (host.clockOffsetNs ?? 0n) - host.clockAdjustNs;
}

export function hostCorrectionNs(host: { readonly clockOffsetNs?: bigint | undefined; readonly clockAdjustNs: bigint } | undefined): bigint {
  return host ? (host.clockOffsetNs ?? 0n) + host.clockAdjustNs : 0n;
}
