"use client";
// The live board's data: one GET per refresh, then a conditional poll every few seconds while the
// tab is visible (a 304 costs no body and changes nothing), paused when hidden, run at once when
// the tab comes back, the window regains focus or the network returns.
import { useCallback, useEffect, useState } from "react";

import { errorMessage } from "./api";
import { getIfChanged } from "./poll";

export const POLL_MS = 3000;
const MAX_BACKOFF_MS = 30_000;
/** A focus right after an answer does not need another request. */
const FRESH_MS = 1000;

export interface LivePage<T> {
  page: T | null;
  /** The last request failed; cleared by the next answer. */
  error: string | null;
  loading: boolean;
  /** Load again now (after this page changed something), without If-None-Match. */
  refresh: () => void;
}

/**
 * `makeUrl` builds the request URL at the moment of each request (so a date in it stays current);
 * a new `makeUrl` or `version` reloads at once.
 */
export function useLivePage<T>(makeUrl: () => string, version: number): LivePage<T> {
  const [page, setPage] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [reloadKey, setReloadKey] = useState(0);

  useEffect(() => {
    let stopped = false;
    let inflight: AbortController | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // The ETag belongs to one URL: a different query must never be answered "not modified".
    let etag: string | null = null;
    let etagUrl: string | null = null;
    let failures = 0;
    let answeredAt = 0;

    const visible = () => document.visibilityState === "visible";

    function schedule() {
      clearTimeout(timer);
      if (stopped || !visible()) return;
      // Back off while the server does not answer; the next success returns to the normal pace.
      const delay = failures ? Math.min(POLL_MS * 2 ** failures, MAX_BACKOFF_MS) : POLL_MS;
      timer = setTimeout(() => {
        if (visible()) void load(true);
      }, delay);
    }

    async function load(conditional: boolean) {
      if (inflight) {
        if (conditional) return; // a poll never overtakes a request already on its way
        inflight.abort();
      }
      clearTimeout(timer);
      const controller = new AbortController();
      inflight = controller;
      const url = makeUrl();
      try {
        const result = await getIfChanged<T>(url, conditional && url === etagUrl ? etag : null, controller.signal);
        if (result.changed) {
          etag = result.etag;
          etagUrl = url;
          setPage(result.body);
        }
        failures = 0;
        setError(null);
      } catch (err) {
        if (controller.signal.aborted) return;
        failures += 1;
        setError(errorMessage(err));
      } finally {
        if (inflight === controller) inflight = null;
      }
      if (stopped) return;
      answeredAt = Date.now();
      setLoading(false);
      schedule();
    }

    function wake() {
      if (!visible()) {
        clearTimeout(timer);
        return;
      }
      if (Date.now() - answeredAt < FRESH_MS) {
        if (!inflight) schedule();
        return;
      }
      void load(true);
    }

    // The request starts here; the state says so until it answers.
    // eslint-disable-next-line react-hooks/set-state-in-effect
    setLoading(true);
    void load(false);
    document.addEventListener("visibilitychange", wake);
    window.addEventListener("focus", wake);
    window.addEventListener("online", wake);
    return () => {
      stopped = true;
      inflight?.abort();
      clearTimeout(timer);
      document.removeEventListener("visibilitychange", wake);
      window.removeEventListener("focus", wake);
      window.removeEventListener("online", wake);
    };
  }, [makeUrl, version, reloadKey]);

  const refresh = useCallback(() => setReloadKey((k) => k + 1), []);
  return { page, error, loading, refresh };
}
