import type { NextRequest } from "next/server";

import { sessionFromBackend } from "@/lib/auth-route";

export const dynamic = "force-dynamic";

export function POST(request: NextRequest) {
  return sessionFromBackend(request, "/api/auth/login");
}
