// Runs once when the server starts, before it handles requests (Next.js instrumentation hook).
// Node.js only: this app has no Edge code (proxy.ts and the routes run on Node.js).
import { installClientAddressHook } from "./lib/client-address-hook";

export function register() {
  installClientAddressHook();
}
