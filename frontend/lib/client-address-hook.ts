// Route handlers never see the socket, and Next.js fills X-Forwarded-For with the socket address
// only when the client sent none. So the address is decided where the socket is known: Node's
// `http.server.request.start` diagnostics channel fires for every request before Next.js sees it,
// and the decided address travels to the route in a header whose name is random per process (a
// client cannot send it ahead of us). Installed once at start-up by instrumentation.ts.
import { randomBytes } from "node:crypto";
import { subscribe } from "node:diagnostics_channel";
import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";

import { clientAddress, parseTrustedProxies } from "./client-address";

const HEADER_NAME = Symbol.for("todo-frontend.client-address-header");
type WithHeaderName = typeof globalThis & { [HEADER_NAME]?: string };

export function installClientAddressHook(trustedProxies = process.env.TRUSTED_PROXY_IPS): void {
  const holder = globalThis as WithHeaderName;
  if (holder[HEADER_NAME]) return;
  const trusted = parseTrustedProxies(trustedProxies);
  const header = `x-todo-client-${randomBytes(12).toString("hex")}`;
  subscribe("http.server.request.start", (message) => {
    const { request, socket } = message as { request: IncomingMessage; socket: Socket };
    const address = clientAddress(socket.remoteAddress, request.headers["x-forwarded-for"], trusted);
    if (address) request.headers[header] = address;
  });
  holder[HEADER_NAME] = header;
}

let warned = false;

/** The address decided for this request, or null when the hook is not installed (then nothing is
 * forwarded and the backend keys on the frontend's own address: shared, but never client-chosen). */
export function clientAddressOf(headers: Headers): string | null {
  const header = (globalThis as WithHeaderName)[HEADER_NAME];
  if (!header) {
    if (!warned) {
      warned = true;
      console.error(JSON.stringify({ level: "error", message: "client address hook is not installed; X-Forwarded-For is not sent" }));
    }
    return null;
  }
  return headers.get(header);
}
