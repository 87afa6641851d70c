"use client";
// Browser-side calls, always to our own origin (/api/*): the server forwards them to the backend.
import { markReachable, reportFailure } from "./connection";
import { NETWORK_ERROR, describeError, fieldErrors, isConnectionStatus, type FieldErrors } from "./errors";

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    /** For a 422: the problem with each field, in plain words (see lib/errors.ts). */
    readonly fields: FieldErrors = {},
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export async function api<T>(path: string, init: { method?: string; body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method: init.method ?? "GET",
      headers: init.body === undefined ? { accept: "application/json" } : { accept: "application/json", "content-type": "application/json" },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      credentials: "same-origin",
      cache: "no-store",
      signal: init.signal,
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    reportFailure(0);
    throw new ApiError(NETWORK_ERROR, 0);
  }
  if (isConnectionStatus(response.status)) reportFailure(response.status);
  else markReachable();
  const text = await response.text();
  let body: unknown = undefined;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
  }
  if (!response.ok) {
    const error = new ApiError(describeError(response.status, body, response.headers.get("retry-after")), response.status, fieldErrors(body));
    if (response.status === 401 && !path.startsWith("/api/auth/")) {
      window.dispatchEvent(new CustomEvent("todo:unauthorized"));
    }
    throw error;
  }
  return body as T;
}

export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  return "Something went wrong. Please try again.";
}

/** The backend could not be reached (no answer, 502/503/504): the shared offline status already
 * says so, so a panel should keep what it shows instead of adding its own red alert. */
export function isConnectionError(error: unknown): boolean {
  return error instanceof ApiError && isConnectionStatus(error.status);
}
