// Every /api/* call from the browser goes through here to the backend (see lib/backend.ts).
import type { NextRequest } from "next/server";

import { forward, toResponse } from "@/lib/backend";

export const dynamic = "force-dynamic";

async function handle(request: NextRequest) {
  const outcome = await forward(request, request.nextUrl.pathname);
  return outcome.ok ? toResponse(request, outcome.result) : outcome.response;
}

export const GET = handle;
export const HEAD = handle;
export const POST = handle;
export const PUT = handle;
export const PATCH = handle;
export const DELETE = handle;
