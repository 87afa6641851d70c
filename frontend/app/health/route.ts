// Liveness for containers and probes: answers without calling the backend. `version` is the
// image's APP_VERSION (its content tag), so a rollout or a rollback can be seen from outside.
export const dynamic = "force-dynamic";

export function GET() {
  return Response.json(
    { status: "healthy", version: process.env.APP_VERSION || "dev" },
    { headers: { "cache-control": "no-store" } },
  );
}
