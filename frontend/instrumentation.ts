// Runs once when the server starts, before it handles requests (Next.js instrumentation hook).
export async function register() {
  if (process.env.NEXT_RUNTIME === "nodejs") {
    const { installClientAddressHook } = await import("./lib/client-address-hook");
    installClientAddressHook();
  }
}
