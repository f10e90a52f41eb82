/**
 * Link layers (tcpdump.org/linktypes.html) down to the network header. Returns the offset of the IP header
 * in `data`, or -1 when the frame carries something else (ARP, LLDP, ...).
 */
export const LINKTYPE = {
  NULL: 0, // BSD loopback: 4-byte address family in the capturing host's byte order
  ETHERNET: 1,
  RAW_OLD: 12, // DLT_RAW on some BSDs/Linux
  RAW_OLD2: 14,
  RAW: 101,
  LOOP: 108, // OpenBSD loopback: family in network byte order
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;

function ethertypeOk(t: number): boolean {
  return t === ETH_IPV4 || t === ETH_IPV6;
}

/** BSD AF_INET is 2 everywhere; AF_INET6 is 24 (NetBSD/OpenBSD), 28 (FreeBSD), 30 (macOS), 10 (Linux). */
function familyIsIp(f: number): boolean {
  return f === 2 || f === 24 || f === 28 || f === 30 || f === 10;
}

/**
 * Offset of the network header of the frame data[start, end) (an absolute index into `data`), or -1.
 * The range form lets the decoder pass the frame in place in the capture chunk.
 */
export function networkOffset(linkType: number, data: Uint8Array, start = 0, end = data.length): number {
  const n = end - start;
  const b = start;
  switch (linkType) {
    case LINKTYPE.ETHERNET: {
      if (n < 14) return -1;
      let off = 12;
      let type = (data[b + off] << 8) | data[b + off + 1];
      // 802.1Q / 802.1ad / QinQ tags: 4 bytes each (TCI + inner ethertype)
      while ((type === 0x8100 || type === 0x88a8 || type === 0x9100) && off + 6 <= n) {
        off += 4;
        type = (data[b + off] << 8) | data[b + off + 1];
      }
      return ethertypeOk(type) ? b + off + 2 : -1;
    }
    case LINKTYPE.LINUX_SLL: {
      if (n < 16) return -1;
      const type = (data[b + 14] << 8) | data[b + 15];
      return ethertypeOk(type) ? b + 16 : -1;
    }
    case LINKTYPE.LINUX_SLL2: {
      if (n < 20) return -1;
      const type = (data[b] << 8) | data[b + 1];
      return ethertypeOk(type) ? b + 20 : -1;
    }
    case LINKTYPE.RAW:
    case LINKTYPE.RAW_OLD:
    case LINKTYPE.RAW_OLD2:
    case LINKTYPE.IPV4:
    case LINKTYPE.IPV6:
      return n > 0 ? b : -1;
    case LINKTYPE.NULL: {
      if (n < 4) return -1;
      const le = data[b] | (data[b + 1] << 8) | (data[b + 2] << 16) | (data[b + 3] << 24);
      const be = (data[b] << 24) | (data[b + 1] << 16) | (data[b + 2] << 8) | data[b + 3];
      return familyIsIp(le) || familyIsIp(be) ? b + 4 : -1;
    }
    case LINKTYPE.LOOP: {
      if (n < 4) return -1;
      const be = (data[b] << 24) | (data[b + 1] << 16) | (data[b + 2] << 8) | data[b + 3];
      return familyIsIp(be) ? b + 4 : -1;
    }
    default:
      return -1;
  }
}
