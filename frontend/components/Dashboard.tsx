"use client";

import { useRouter } from "next/navigation";
import { useCallback, useEffect, useState } from "react";

import { api, errorMessage } from "@/lib/api";
import type { User } from "@/lib/types";

import Board from "./Board";
import ChatPanel from "./ChatPanel";
import styles from "./Dashboard.module.css";

type View = "board" | "chat";

export default function Dashboard() {
  const router = useRouter();
  const [user, setUser] = useState<User | null>(null);
  const [userError, setUserError] = useState<string | null>(null);
  const [view, setView] = useState<View>("board");
  const [boardVersion, setBoardVersion] = useState(0);
  const [signingOut, setSigningOut] = useState(false);

  const loadUser = useCallback(async () => {
    setUserError(null);
    try {
      setUser(await api<User>("/api/auth/me"));
    } catch (err) {
      setUserError(errorMessage(err));
    }
  }, []);

  useEffect(() => {
    // Fetch the signed-in user once; setState happens after the network answer.
    // eslint-disable-next-line react-hooks/set-state-in-effect
    void loadUser();
  }, [loadUser]);

  useEffect(() => {
    const onUnauthorized = () => router.replace("/signin?expired=1");
    window.addEventListener("todo:unauthorized", onUnauthorized);
    return () => window.removeEventListener("todo:unauthorized", onUnauthorized);
  }, [router]);

  async function signOut() {
    setSigningOut(true);
    try {
      await api("/api/auth/logout", { method: "POST" });
    } catch {
      // the cookie may already be gone; leave anyway
    }
    router.replace("/signin");
    router.refresh();
  }

  const tasksChanged = useCallback(() => setBoardVersion((v) => v + 1), []);

  return (
    <div className={styles.shell}>
      <a href="#main" className="skip-link">
        Skip to tasks
      </a>
      <header className={styles.header}>
        <div className={styles.brand}>
          <span className={styles.logo} aria-hidden="true">
            ✓
          </span>
          <span className={styles.appName}>Todo Chatbot</span>
        </div>
        <div className={styles.account}>
          {user && (
            <span className={styles.user} title={user.email}>
              {user.name || user.email}
            </span>
          )}
          <button type="button" className="btn btn-small" onClick={signOut} disabled={signingOut}>
            {signingOut ? "Signing out…" : "Sign out"}
          </button>
        </div>
      </header>

      {userError && (
        <div className={styles.banner}>
          <div className="alert" role="alert">
            <span>{userError}</span>
            <button type="button" className="btn btn-small" onClick={loadUser}>
              Try again
            </button>
          </div>
        </div>
      )}

      <nav className={styles.switcher} aria-label="Choose a panel">
        <button type="button" aria-pressed={view === "board"} onClick={() => setView("board")}>
          Tasks
        </button>
        <button type="button" aria-pressed={view === "chat"} onClick={() => setView("chat")}>
          Assistant
        </button>
      </nav>

      <div className={styles.columns} data-view={view}>
        <main id="main" className={styles.boardColumn} tabIndex={-1}>
          <Board version={boardVersion} />
        </main>
        <aside className={styles.chatColumn} aria-label="Assistant">
          <ChatPanel onTasksChanged={tasksChanged} />
        </aside>
      </div>
    </div>
  );
}
