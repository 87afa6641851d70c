"use client";
// A conditional GET for the live board: sends the last ETag as If-None-Match, so an unchanged list
// costs a 304 with no body. Kept apart from lib/api.ts because api() hides status and headers.
import { ApiError } from "./api";
import { NETWORK_ERROR, describeError } from "./errors";

export type Conditional<T> = { changed: false } | { changed: true; body: T; etag: string | null };

export async function getIfChanged<T>(path: string, etag: string | null, signal?: AbortSignal): Promise<Conditional<T>> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (etag) headers["if-none-match"] = etag;
  let response: Response;
  try {
    response = await fetch(path, { headers, credentials: "same-origin", cache: "no-store", signal });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiError(NETWORK_ERROR, 0);
  }
  if (response.status === 304) return { changed: false };
  const text = await response.text();
  let body: unknown = undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    // Same contract as api(): an expired session sends the page to sign-in.
    if (response.status === 401) window.dispatchEvent(new CustomEvent("todo:unauthorized"));
    throw new ApiError(describeError(response.status, body, response.headers.get("retry-after")), response.status);
  }
  return { changed: true, body: body as T, etag: response.headers.get("etag") };
}
