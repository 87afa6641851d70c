"use client";

import { useRouter } from "next/navigation";
import { useCallback, useEffect, useRef, useState, type MouseEvent } from "react";

import { api, errorMessage, isConnectionError } from "@/lib/api";
import { onRefresh } from "@/lib/connection";
import type { User } from "@/lib/types";

import Board from "./Board";
import ChatPanel, { CHAT_SHORTCUTS, type ChatPanelHandle } from "./ChatPanel";
import styles from "./Dashboard.module.css";
import OfflineStatus from "./OfflineStatus";

type View = "board" | "chat";

/** Typing into a field: a bare "/" there is text, not the shortcut. */
function isTextEntry(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName);
}

export default function Dashboard() {
  const router = useRouter();
  const [user, setUser] = useState<User | null>(null);
  const [userError, setUserError] = useState<string | null>(null);
  const [view, setView] = useState<View>("board");
  const [boardVersion, setBoardVersion] = useState(0);
  const [signingOut, setSigningOut] = useState(false);
  const [focusChat, setFocusChat] = useState(0);
  const chat = useRef<ChatPanelHandle>(null);
  const haveUser = useRef(false);

  const loadUser = useCallback(async () => {
    setUserError(null);
    try {
      setUser(await api<User>("/api/auth/me"));
      haveUser.current = true;
    } catch (err) {
      // Offline has its own status line; the name comes back with the next refresh.
      if (!isConnectionError(err)) setUserError(errorMessage(err));
    }
  }, []);

  useEffect(() => {
    // Fetch the signed-in user once; setState happens after the network answer.
    // eslint-disable-next-line react-hooks/set-state-in-effect
    void loadUser();
  }, [loadUser]);

  const tasksChanged = useCallback(() => setBoardVersion((v) => v + 1), []);

  // Reconnected: the board reloads at once (its `version` changes), the user too. A return to the
  // tab is left to the board's own live polling, which wakes up on focus with a cheap 304.
  useEffect(
    () =>
      onRefresh((reason) => {
        if (reason === "reconnect") tasksChanged();
        if (!haveUser.current) void loadUser();
      }),
    [tasksChanged, loadUser],
  );

  // A 401 while signing out (the board's poll racing the logout) is not an expired session.
  const leaving = useRef(false);
  useEffect(() => {
    const onUnauthorized = () => {
      if (!leaving.current) router.replace("/signin?expired=1");
    };
    window.addEventListener("todo:unauthorized", onUnauthorized);
    return () => window.removeEventListener("todo:unauthorized", onUnauthorized);
  }, [router]);

  // Focus moves after the chat column is shown (on a phone it is hidden behind the Tasks tab).
  useEffect(() => {
    if (focusChat > 0) chat.current?.focusInput();
  }, [focusChat]);

  const goToChat = useCallback(() => {
    setView("chat");
    setFocusChat((n) => n + 1);
  }, []);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      // event.code, not key: Alt+C types "ç" on a Mac keyboard.
      const altC = event.altKey && !event.ctrlKey && !event.metaKey && event.code === "KeyC";
      const slash = event.key === "/" && !event.ctrlKey && !event.metaKey && !event.altKey && !isTextEntry(event.target);
      if (!altC && !slash) return;
      event.preventDefault();
      goToChat();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [goToChat]);

  function skipToChat(event: MouseEvent<HTMLAnchorElement>) {
    event.preventDefault();
    goToChat();
  }

  function skipToTasks(event: MouseEvent<HTMLAnchorElement>) {
    event.preventDefault();
    setView("board");
    // The tasks column may only now be displayed: focus it once it is.
    requestAnimationFrame(() => document.getElementById("tasks")?.focus());
  }

  async function signOut() {
    leaving.current = true;
    setSigningOut(true);
    try {
      await api("/api/auth/logout", { method: "POST" });
    } catch {
      // the cookie may already be gone; leave anyway
    }
    router.replace("/signin");
    router.refresh();
  }

  return (
    <div className={styles.shell}>
      <div className={styles.skipLinks}>
        <a href="#tasks" className="skip-link" onClick={skipToTasks}>
          Skip to tasks
        </a>
        <a href="#chat-input" className="skip-link" onClick={skipToChat} aria-keyshortcuts={CHAT_SHORTCUTS}>
          Skip to chat (shortcut: / or Alt+C)
        </a>
      </div>
      <header className={styles.header}>
        <div className={styles.brand}>
          <span className={styles.logo} aria-hidden="true">
            ✓
          </span>
          <h1 className={styles.appName}>Todo Chatbot</h1>
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

      <OfflineStatus />

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

      {/* One main landmark for both panels: on a phone only one of them is shown, and the page
          must still have its main content (the chat panel is a region named "Assistant"). */}
      <main id="main" className={styles.columns} data-view={view}>
        <div id="tasks" className={styles.boardColumn} tabIndex={-1}>
          <Board version={boardVersion} />
        </div>
        <div className={styles.chatColumn}>
          <ChatPanel ref={chat} onTasksChanged={tasksChanged} />
        </div>
      </main>
    </div>
  );
}
