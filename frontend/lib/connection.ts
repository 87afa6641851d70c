// One place that knows whether the app can reach its backend. api() reports every outcome here;
// while offline it retries with backoff, and when the backend answers again (or the tab regains
// focus, or the browser comes back online) it dispatches REFRESH_EVENT so the board and the chat
// reload what they show. Components read the state with useConnection() (components/OfflineStatus).
import { useSyncExternalStore } from "react";

import { isConnectionStatus } from "./errors";

export const REFRESH_EVENT = "todo:refresh";
/** Any answer from the backend proves it is up: 401 and 404 included (the ping needs no session). */
const PING_PATH = "/api/auth/me";
const MAX_DELAY_MS = 15_000;
/** Focus and visibility fire in bursts (alt-tab, tab switch): one refresh per this interval. */
const FOCUS_REFRESH_MIN_MS = 2_000;

/** Wait before retry number `attempt` (0-based): 1 s, 2 s, 4 s, 8 s, then 15 s. */
export function backoffDelay(attempt: number): number {
  return Math.min(1000 * 2 ** Math.max(0, attempt), MAX_DELAY_MS);
}

export interface ConnectionState {
  online: boolean;
  /** When the next automatic retry happens (ms since epoch), while offline. */
  nextRetryAt: number | null;
}

let state: ConnectionState = { online: true, nextRetryAt: null };
const listeners = new Set<() => void>();
let attempt = 0;
let retryTimer: ReturnType<typeof setTimeout> | null = null;
let probing: Promise<boolean> | null = null;
let lastFocusRefresh = 0;
/** Whether the user left the page (blur, hidden tab) since the last refresh: only a return counts,
 * so the focus a page gets right after loading fetches nothing again. */
let leftPage = false;
let windowHooked = false;

function setState(next: ConnectionState) {
  state = next;
  for (const listener of listeners) listener();
}

/** Why the page's data should be reloaded: the backend is back, or the user came back to the tab
 * (the live board polls by itself then; the chat does not). */
export type RefreshReason = "reconnect" | "return";

function dispatchRefresh(reason: RefreshReason) {
  window.dispatchEvent(new CustomEvent<RefreshReason>(REFRESH_EVENT, { detail: reason }));
}

/** One cheap request straight to the backend (not through api(): a 401 here must not sign out). */
async function ping(): Promise<boolean> {
  try {
    const response = await fetch(PING_PATH, { cache: "no-store", credentials: "same-origin", signal: AbortSignal.timeout(8_000) });
    return !isConnectionStatus(response.status);
  } catch {
    return false;
  }
}

function probe(): Promise<boolean> {
  probing ??= ping().finally(() => {
    probing = null;
  });
  return probing;
}

function scheduleRetry() {
  if (retryTimer) clearTimeout(retryTimer);
  const delay = backoffDelay(attempt);
  attempt += 1;
  setState({ online: false, nextRetryAt: Date.now() + delay });
  retryTimer = setTimeout(() => void retryNow(), delay);
}

/** Try the backend now (the retry loop, a "Retry now" button, a focus event). */
export async function retryNow(): Promise<boolean> {
  if (retryTimer) clearTimeout(retryTimer);
  retryTimer = null;
  const reachable = await probe();
  if (reachable) markReachable();
  else scheduleRetry();
  return reachable;
}

/** A request got an answer from the backend. Coming back from offline refreshes the page's data. */
export function markReachable() {
  if (state.online) return;
  if (retryTimer) clearTimeout(retryTimer);
  retryTimer = null;
  attempt = 0;
  setState({ online: true, nextRetryAt: null });
  dispatchRefresh("reconnect");
}

/** A request failed with `status` (0: no answer at all). Only "cannot reach the backend" counts,
 * and it is confirmed by a ping first: a chat reply's 503 from a busy model is not an outage. */
export function reportFailure(status: number) {
  if (!isConnectionStatus(status) || !state.online) return;
  void probe().then((reachable) => {
    if (!reachable && state.online) scheduleRetry();
  });
}

function onLeave() {
  leftPage = true;
}

function onFocusLike() {
  if (document.visibilityState === "hidden") {
    leftPage = true;
    return;
  }
  if (!state.online) {
    void retryNow();
    return;
  }
  const now = Date.now();
  if (!leftPage || now - lastFocusRefresh < FOCUS_REFRESH_MIN_MS) return;
  leftPage = false;
  lastFocusRefresh = now;
  // Ping before refreshing: while the backend is down, one quiet probe instead of every panel's
  // reload failing with its own error.
  void probe().then((reachable) => {
    if (reachable) dispatchRefresh("return");
    else if (state.online) scheduleRetry();
  });
}

function hookWindow() {
  if (windowHooked || typeof window === "undefined") return;
  windowHooked = true;
  window.addEventListener("focus", onFocusLike);
  window.addEventListener("blur", onLeave);
  window.addEventListener("online", onFocusLike);
  document.addEventListener("visibilitychange", onFocusLike);
  window.addEventListener("offline", () => {
    if (state.online) scheduleRetry();
  });
}

function subscribe(listener: () => void) {
  hookWindow();
  listeners.add(listener);
  return () => listeners.delete(listener);
}

const SERVER_STATE: ConnectionState = { online: true, nextRetryAt: null };

export function useConnection(): ConnectionState {
  return useSyncExternalStore(
    subscribe,
    () => state,
    () => SERVER_STATE,
  );
}

/** Run `handler` whenever the page's data should be reloaded (reconnect, a return to the tab). */
export function onRefresh(handler: (reason: RefreshReason) => void): () => void {
  hookWindow();
  const listener = (event: Event) => handler((event as CustomEvent<RefreshReason>).detail ?? "reconnect");
  window.addEventListener(REFRESH_EVENT, listener);
  return () => window.removeEventListener(REFRESH_EVENT, listener);
}
