// Sign-out: the token is stateless, so ending the session means dropping the cookie.
import { NextResponse, type NextRequest } from "next/server";

import { isCrossSite, jsonError } from "@/lib/backend";
import { clearSessionCookie } from "@/lib/session";

export const dynamic = "force-dynamic";

export function POST(request: NextRequest) {
  if (isCrossSite(request)) return jsonError(403, "Cross-site requests are not allowed");
  const response = new NextResponse(null, { status: 204 });
  clearSessionCookie(response, request);
  return response;
}
