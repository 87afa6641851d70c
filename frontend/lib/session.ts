// The session cookie: the backend's JWT, kept where page scripts cannot read it (httpOnly).
import type { NextRequest, NextResponse } from "next/server";

export const SESSION_COOKIE = "todo_session";
const FALLBACK_MAX_AGE = 60 * 60 * 24; // the backend's default token lifetime

/** Seconds until the JWT's `exp`, read without verifying (the backend verifies it on every call). */
export function tokenMaxAge(token: string, nowSeconds = Date.now() / 1000): number {
  const payload = token.split(".")[1];
  if (!payload) return FALLBACK_MAX_AGE;
  try {
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { exp?: unknown };
    if (typeof claims.exp === "number") return Math.max(0, Math.floor(claims.exp - nowSeconds));
  } catch {
    // not a JWT we can read: fall back to the default lifetime
  }
  return FALLBACK_MAX_AGE;
}

/** Secure cookies when the browser reached us over HTTPS (directly or through an ingress). */
export function wantsSecureCookie(request: NextRequest): boolean {
  const forced = (process.env.COOKIE_SECURE ?? "").toLowerCase();
  if (forced === "true" || forced === "1") return true;
  if (forced === "false" || forced === "0") return false;
  const proto = request.headers.get("x-forwarded-proto")?.split(",")[0]?.trim();
  return (proto ?? request.nextUrl.protocol.replace(":", "")) === "https";
}

export function setSessionCookie(response: NextResponse, request: NextRequest, token: string): void {
  response.cookies.set({
    name: SESSION_COOKIE,
    value: token,
    httpOnly: true,
    sameSite: "lax",
    secure: wantsSecureCookie(request),
    path: "/",
    maxAge: tokenMaxAge(token),
  });
}

export function clearSessionCookie(response: NextResponse, request: NextRequest): void {
  response.cookies.set({
    name: SESSION_COOKIE,
    value: "",
    httpOnly: true,
    sameSite: "lax",
    secure: wantsSecureCookie(request),
    path: "/",
    maxAge: 0,
  });
}
