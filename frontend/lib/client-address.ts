// The client address the backend's per-IP limits (sign-in, sign-up) key on. A client can write any
// X-Forwarded-For it likes, so it counts for nothing unless the socket peer is a proxy the operator
// trusts (TRUSTED_PROXY_IPS: a comma list of addresses and CIDR ranges, default empty).
import { BlockList, isIP } from "node:net";

/** Parse TRUSTED_PROXY_IPS; a malformed entry is an error naming the variable (never silently ignored). */
export function parseTrustedProxies(raw: string | undefined): BlockList {
  const trusted = new BlockList();
  for (const entry of (raw ?? "").split(",").map((s) => s.trim()).filter(Boolean)) {
    const [address = "", prefix, ...rest] = entry.split("/");
    const family = isIP(address);
    const maxBits = family === 4 ? 32 : 128;
    const type = family === 4 ? "ipv4" : "ipv6";
    if (family === 0 || rest.length > 0 || (prefix !== undefined && !/^\d{1,3}$/.test(prefix))) {
      throw new Error(`TRUSTED_PROXY_IPS: "${entry}" is not an IP address or CIDR range (e.g. 10.0.0.0/8)`);
    }
    if (prefix === undefined) {
      trusted.addAddress(address, type);
    } else if (Number(prefix) > maxBits) {
      throw new Error(`TRUSTED_PROXY_IPS: "${entry}" has a prefix longer than ${maxBits} bits`);
    } else {
      trusted.addSubnet(address, Number(prefix), type);
    }
  }
  return trusted;
}

/** A bare IP address from a socket or a forwarding header, or null if it is not one. Accepts the
 * IPv4-mapped IPv6 form of a dual-stack socket and the `ip:port` / `[ip]:port` forms some proxies write. */
export function normaliseAddress(raw: string): string | null {
  let address = raw.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (bracketed?.[1]) address = bracketed[1];
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(address)) address = address.slice(0, address.lastIndexOf(":"));
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1]) address = mapped[1];
  return isIP(address) ? address : null;
}

function isTrusted(address: string, trusted: BlockList): boolean {
  return trusted.check(address, isIP(address) === 4 ? "ipv4" : "ipv6");
}

/**
 * The socket peer, unless the peer is a trusted proxy: then the chain it sent is walked from the
 * right (the entries written by our own proxies) to the first address that is not a trusted proxy.
 * Entries left of that were written by the client and are never used. Null only without a peer.
 */
export function clientAddress(
  socketPeer: string | undefined,
  forwardedFor: string | string[] | undefined | null,
  trusted: BlockList,
): string | null {
  const peer = socketPeer ? normaliseAddress(socketPeer) : null;
  if (!peer || !isTrusted(peer, trusted)) return peer;
  const chain = (Array.isArray(forwardedFor) ? forwardedFor.join(",") : (forwardedFor ?? ""))
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  let client = peer;
  for (let i = chain.length - 1; i >= 0; i--) {
    const hop = normaliseAddress(chain[i] ?? "");
    // Not an address: stop at the last one a trusted proxy vouched for.
    if (!hop) break;
    client = hop;
    if (!isTrusted(hop, trusted)) break;
  }
  return client;
}
