// Liveness for containers and probes: answers without calling the backend.
export const dynamic = "force-dynamic";

export function GET() {
  return Response.json({ status: "healthy" }, { headers: { "cache-control": "no-store" } });
}
