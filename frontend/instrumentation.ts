// Runs once when the server starts, before it handles requests (Next.js instrumentation hook).
// Next.js also compiles this file for the Edge runtime; the hook needs Node.js, so it is loaded
// only there (NEXT_RUNTIME is set by Next.js for each bundle).
export async function register() {
  if (process.env.NEXT_RUNTIME === "nodejs") {
    const { installClientAddressHook } = await import("./lib/client-address-hook");
    installClientAddressHook();
  }
}
