// Sign-in and sign-up: forward to the backend, keep the token in an httpOnly cookie, and give the
// browser only the user (the token never reaches page scripts).
import { NextResponse, type NextRequest } from "next/server";

import { forward, jsonError, toResponse } from "./backend";
import { setSessionCookie } from "./session";

interface TokenBody {
  access_token?: unknown;
  user?: unknown;
}

export async function sessionFromBackend(request: NextRequest, path: string): Promise<NextResponse> {
  const outcome = await forward(request, path);
  if (!outcome.ok) return outcome.response;
  const { result } = outcome;
  if (result.status < 200 || result.status >= 300) return toResponse(request, result);

  let parsed: TokenBody;
  try {
    parsed = JSON.parse(new TextDecoder().decode(result.body ?? new ArrayBuffer(0))) as TokenBody;
  } catch {
    return jsonError(502, "The task service sent an unexpected answer. Please try again.", result.requestId);
  }
  if (typeof parsed.access_token !== "string" || !parsed.user) {
    return jsonError(502, "The task service sent an unexpected answer. Please try again.", result.requestId);
  }
  const response = NextResponse.json({ user: parsed.user }, { status: result.status });
  response.headers.set("x-request-id", result.requestId);
  response.headers.set("cache-control", "no-store");
  setSessionCookie(response, request, parsed.access_token);
  return response;
}
