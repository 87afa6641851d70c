// Server-side forwarding of /api/* to the backend. BACKEND_URL is read on every request, so one
// built image runs anywhere (compose, Minikube, a cluster) by changing only the environment.
import { randomUUID } from "node:crypto";
import { NextResponse, type NextRequest } from "next/server";

import { clientAddressOf } from "./client-address-hook";
import { SESSION_COOKIE, clearSessionCookie } from "./session";

const DEFAULT_BACKEND_URL = "http://localhost:8001";
const SAFE_REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
// Request headers passed through to the backend. Cookies are not: the session becomes a Bearer header.
// If-None-Match: the board's poll asks "changed since this ETag?" and gets a bodiless 304 if not.
const FORWARDED_REQUEST_HEADERS = ["content-type", "accept", "accept-language", "user-agent", "if-none-match"];
// Response headers passed back to the browser.
const FORWARDED_RESPONSE_HEADERS = ["content-type", "retry-after", "x-request-id", "cache-control", "location", "etag"];

export function backendUrl(): string {
  const raw = (process.env.BACKEND_URL ?? "").trim() || DEFAULT_BACKEND_URL;
  return raw.replace(/\/+$/, "");
}

// Bodies larger than this are refused here, before they are buffered (the backend's own limit,
// MAX_BODY_BYTES, is 64 KiB by default).
const MAX_BODY_BYTES = 1024 * 1024;

/** Read the request body, or null when it is larger than MAX_BODY_BYTES. */
async function readBody(request: NextRequest): Promise<Uint8Array | null> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) return null;
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

function timeoutMs(): number {
  const seconds = Number(process.env.BACKEND_TIMEOUT_SECONDS ?? "");
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 120_000;
}

export function jsonError(status: number, detail: string, requestId?: string): NextResponse {
  const response = NextResponse.json({ detail }, { status });
  if (requestId) response.headers.set("x-request-id", requestId);
  response.headers.set("cache-control", "no-store");
  return response;
}

/** A cross-site form or script must not act with the user's cookie (defence on top of SameSite=Lax). */
export function isCrossSite(request: NextRequest): boolean {
  if (request.method === "GET" || request.method === "HEAD") return false;
  const origin = request.headers.get("origin");
  if (!origin) return false;
  const host = request.headers.get("x-forwarded-host")?.split(",")[0]?.trim() || request.headers.get("host");
  try {
    return new URL(origin).host !== host;
  } catch {
    return true;
  }
}

export interface ForwardResult {
  status: number;
  headers: Headers;
  body: ArrayBuffer | null;
  requestId: string;
}

export type ForwardOutcome = { ok: true; result: ForwardResult } | { ok: false; response: NextResponse };

const IDEMPOTENT_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Send the request on to the backend; a network failure becomes a readable 502/504 JSON answer. */
export async function forward(request: NextRequest, path: string): Promise<ForwardOutcome> {
  const incomingId = request.headers.get("x-request-id") ?? "";
  const requestId = SAFE_REQUEST_ID.test(incomingId) ? incomingId : randomUUID().replaceAll("-", "");
  if (!path.startsWith("/api/")) {
    return { ok: false, response: jsonError(404, "Not found", requestId) };
  }
  if (isCrossSite(request)) {
    return { ok: false, response: jsonError(403, "Cross-site requests are not allowed", requestId) };
  }

  const headers = new Headers({ "x-request-id": requestId });
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = request.headers.get(name);
    if (value) headers.set(name, value);
  }
  // The browser's address, for the backend's per-IP rate limits: decided from the socket (see
  // lib/client-address.ts), never the X-Forwarded-For the client sent. The backend trusts this
  // header only from the frontend (FORWARDED_ALLOW_IPS).
  const clientIp = clientAddressOf(request.headers);
  if (clientIp) headers.set("x-forwarded-for", clientIp);
  const token = request.cookies.get(SESSION_COOKIE)?.value;
  if (token) headers.set("authorization", `Bearer ${token}`);

  const hasBody = request.method !== "GET" && request.method !== "HEAD";
  const requestBody = hasBody ? await readBody(request) : undefined;
  if (requestBody === null) {
    return { ok: false, response: jsonError(413, "That is too much data to send at once.", requestId) };
  }
  const target = `${backendUrl()}${path}${request.nextUrl.search}`;
  const deadline = AbortSignal.timeout(timeoutMs());
  const send = () =>
    fetch(target, {
      method: request.method,
      headers,
      body: requestBody as BodyInit | undefined,
      redirect: "manual",
      cache: "no-store",
      signal: deadline,
    });
  let upstream: Response;
  try {
    try {
      upstream = await send();
    } catch (error) {
      // A kept-alive connection to a backend pod that is shutting down can be closed under us
      // (rolling update): retry once, but only requests that are safe to send twice.
      if (deadline.aborted || !IDEMPOTENT_METHODS.has(request.method)) throw error;
      upstream = await send();
    }
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
    console.error(
      JSON.stringify({
        level: "error",
        message: timedOut ? "backend timed out" : "backend unreachable",
        request_id: requestId,
        method: request.method,
        path,
        error: error instanceof Error ? `${error.message} ${String(error.cause ?? "")}`.trim() : String(error),
      }),
    );
    return {
      ok: false,
      response: timedOut
        ? jsonError(504, "The server took too long to answer. Please try again.", requestId)
        : jsonError(502, "The task service is unreachable right now. Please try again in a moment.", requestId),
    };
  }

  const responseHeaders = new Headers();
  for (const name of FORWARDED_RESPONSE_HEADERS) {
    const value = upstream.headers.get(name);
    if (value) responseHeaders.set(name, value);
  }
  if (!responseHeaders.has("x-request-id")) responseHeaders.set("x-request-id", requestId);
  if (!responseHeaders.has("cache-control")) responseHeaders.set("cache-control", "no-store");
  const noBody = upstream.status === 204 || upstream.status === 304 || request.method === "HEAD";
  const body = noBody ? null : await upstream.arrayBuffer();
  return { ok: true, result: { status: upstream.status, headers: responseHeaders, body, requestId } };
}

/** Turn a forwarded result into the browser's response; a rejected token also ends the session. */
export function toResponse(request: NextRequest, result: ForwardResult): NextResponse {
  const response = new NextResponse(result.body, { status: result.status, headers: result.headers });
  if (result.status === 401 && request.cookies.has(SESSION_COOKIE)) clearSessionCookie(response, request);
  return response;
}
