"use client";
// The one place the page says it cannot reach the app: calm, polite, and gone when it is back.
import { useEffect, useState } from "react";

import { retryNow, useConnection } from "@/lib/connection";

import styles from "./Dashboard.module.css";

export default function OfflineStatus() {
  const { online, nextRetryAt } = useConnection();
  const [now, setNow] = useState(() => Date.now());
  const [trying, setTrying] = useState(false);

  useEffect(() => {
    if (online) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [online]);

  const seconds = nextRetryAt ? Math.max(0, Math.ceil((nextRetryAt - now) / 1000)) : 0;
  return (
    // Always in the page, so assistive technology notices when its text changes.
    <div className={styles.connection} role="status" data-testid="connection-status">
      {!online && (
        <div className={styles.offline}>
          <span className={styles.offlineDot} aria-hidden="true" />
          <span>
            Offline — retrying…
            <span className={styles.offlineDetail}>
              {" "}
              Your changes and typing are kept.
              {/* A countdown read out every second would drown everything else. */}
              <span aria-hidden="true">{seconds > 1 ? ` Next try in ${seconds} s.` : ""}</span>
            </span>
          </span>
          <button
            type="button"
            className="btn btn-small"
            disabled={trying}
            onClick={() => {
              setTrying(true);
              void retryNow().finally(() => setTrying(false));
            }}
          >
            Retry now
          </button>
        </div>
      )}
    </div>
  );
}
