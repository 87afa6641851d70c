"use client";

import { forwardRef, useCallback, useEffect, useImperativeHandle, useRef, useState, type ClipboardEvent, type FormEvent, type KeyboardEvent } from "react";

import { api, errorMessage, isConnectionError } from "@/lib/api";
import { onRefresh } from "@/lib/connection";
import { CHAT_COUNTER_FROM, CHAT_MAX_CHARS, changesTasks, charCount, isQuestion, presentActions, shortDateTime } from "@/lib/format";
import type { ChatMessage, ChatReply, Conversation } from "@/lib/types";

import styles from "./ChatPanel.module.css";

const SUGGESTIONS = ["Add buy milk tomorrow", "What do I have pending?", "Add call the dentist, high priority"];
const OFFLINE_NOT_SENT = "Not sent: the app is offline. Your message is kept here; send it again when the connection is back.";
/** Keys that move focus to the chat input (see Dashboard): "/" outside text fields, Alt+C anywhere
 * (from the task form too). In aria-keyshortcuts syntax. */
export const CHAT_SHORTCUTS = "/ Alt+C";

export interface ChatPanelHandle {
  focusInput: () => void;
}

interface Props {
  onTasksChanged: () => void;
}

const ChatPanel = forwardRef<ChatPanelHandle, Props>(function ChatPanel({ onTasksChanged }, ref) {
  const [conversations, setConversations] = useState<Conversation[] | null>(null);
  const [conversationId, setConversationId] = useState<number | null>(null);
  const [messages, setMessages] = useState<ChatMessage[]>([]);
  const [historyLoading, setHistoryLoading] = useState(false);
  const [listError, setListError] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [input, setInput] = useState("");
  const [pending, setPending] = useState(false);
  const logRef = useRef<HTMLDivElement>(null);
  const inputRef = useRef<HTMLTextAreaElement>(null);
  const nextId = useRef(1);
  // Read by the refresh handler, which must not re-subscribe on every change.
  const current = useRef({ conversationId, pending });
  useEffect(() => {
    current.current = { conversationId, pending };
  }, [conversationId, pending]);

  useImperativeHandle(ref, () => ({ focusInput: () => inputRef.current?.focus() }), []);

  const loadConversations = useCallback(async (): Promise<Conversation[] | null> => {
    try {
      const list = await api<Conversation[]>("/api/conversations");
      setConversations(list);
      setListError(null);
      return list;
    } catch (err) {
      // Offline is shown once, by the page's connection status; the list comes back on reconnect.
      if (!isConnectionError(err)) setListError(errorMessage(err));
      return null;
    }
  }, []);

  const fetchMessages = useCallback(async (id: number, quiet: boolean) => {
    if (!quiet) setHistoryLoading(true);
    try {
      const history = await api<ChatMessage[]>(`/api/conversations/${id}/messages`);
      // The user may have switched conversations while this was loading.
      if (current.current.conversationId === id) setMessages(history);
    } catch (err) {
      if (isConnectionError(err)) return; // keep what is shown; reloaded on reconnect
      if (!quiet) setMessages([]);
      setError(errorMessage(err));
    } finally {
      if (!quiet) setHistoryLoading(false);
    }
  }, []);

  const openConversation = useCallback(
    async (id: number | null) => {
      current.current.conversationId = id;
      setConversationId(id);
      setError(null);
      setNote(null);
      if (id === null) {
        setMessages([]);
        return;
      }
      await fetchMessages(id, false);
    },
    [fetchMessages],
  );

  // On first load, reopen the most recent conversation so the history is there.
  useEffect(() => {
    let cancelled = false;
    // Fetching on mount: the state changes happen when the network answers.
    // eslint-disable-next-line react-hooks/set-state-in-effect
    void loadConversations().then((list) => {
      const latest = list?.[0];
      if (!cancelled && latest) void openConversation(latest.id);
    });
    return () => {
      cancelled = true;
    };
  }, [loadConversations, openConversation]);

  // Back online or back in the tab: the history and the list again, without a reload and
  // without touching what is being typed.
  useEffect(
    () =>
      onRefresh(() => {
        if (current.current.pending) return;
        setNote(null);
        const id = current.current.conversationId;
        void loadConversations().then((list) => {
          if (id !== null) void fetchMessages(id, true);
          else if (list?.[0] && current.current.conversationId === null && !current.current.pending) void openConversation(list[0].id);
        });
      }),
    [loadConversations, fetchMessages, openConversation],
  );

  useEffect(() => {
    const log = logRef.current;
    if (log) log.scrollTop = log.scrollHeight;
  }, [messages, pending]);

  const length = charCount(input);
  const tooLong = length > CHAT_MAX_CHARS;

  async function send(text: string) {
    const message = text.trim();
    if (!message || pending) return;
    if (charCount(message) > CHAT_MAX_CHARS) {
      setError(`This message is ${charCount(message).toLocaleString("en-GB")} characters; the limit is ${CHAT_MAX_CHARS.toLocaleString("en-GB")}. Shorten it to send.`);
      return;
    }
    setError(null);
    setNote(null);
    setPending(true);
    setInput("");
    const optimistic: ChatMessage = { id: `local-${nextId.current++}`, role: "user", content: message, actions: [], created_at: new Date().toISOString() };
    setMessages((current) => [...current, optimistic]);
    try {
      const reply = await api<ChatReply>("/api/chat", {
        method: "POST",
        body: conversationId === null ? { message } : { message, conversation_id: conversationId },
      });
      setMessages((current) => [
        ...current,
        { id: `reply-${nextId.current++}`, role: "assistant", content: reply.reply, actions: reply.actions, created_at: new Date().toISOString() },
      ]);
      current.current.conversationId = reply.conversation_id;
      setConversationId(reply.conversation_id);
      if (changesTasks(reply.actions)) onTasksChanged();
      void loadConversations();
    } catch (err) {
      setMessages((current) => current.filter((m) => m.id !== optimistic.id));
      setInput(message);
      if (isConnectionError(err)) setNote(OFFLINE_NOT_SENT);
      else setError(errorMessage(err));
    } finally {
      setPending(false);
      inputRef.current?.focus();
    }
  }

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    void send(input);
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      void send(input);
    }
  }

  // Refuse a paste that would go over the limit, with a reason, instead of cutting it silently.
  function onPaste(event: ClipboardEvent<HTMLTextAreaElement>) {
    const pasted = event.clipboardData.getData("text");
    const area = event.currentTarget;
    const after = area.value.slice(0, area.selectionStart) + pasted + area.value.slice(area.selectionEnd);
    const total = charCount(after);
    if (total > CHAT_MAX_CHARS) {
      event.preventDefault();
      setError(
        `Nothing was pasted: that would make the message ${total.toLocaleString("en-GB")} characters, and the limit is ${CHAT_MAX_CHARS.toLocaleString("en-GB")}. Paste a shorter part.`,
      );
    }
  }

  const showCounter = length >= CHAT_MAX_CHARS * CHAT_COUNTER_FROM;
  return (
    <section className={styles.panel} aria-labelledby="chat-heading">
      <header className={styles.header}>
        <h2 id="chat-heading" className={styles.title}>
          Assistant
        </h2>
        <div className={styles.controls}>
          <label htmlFor="conversation" className="visually-hidden">
            Conversation
          </label>
          <select
            id="conversation"
            className={styles.picker}
            value={conversationId ?? ""}
            disabled={pending}
            onChange={(e) => void openConversation(e.target.value ? Number(e.target.value) : null)}
          >
            <option value="">New conversation</option>
            {conversations?.map((c) => (
              <option key={c.id} value={c.id}>
                {(c.title || "Untitled").slice(0, 40)} · {shortDateTime(c.updated_at)}
              </option>
            ))}
          </select>
          <button type="button" className={`btn btn-small ${styles.newChat}`} onClick={() => void openConversation(null)} disabled={pending}>
            New chat
          </button>
        </div>
      </header>
      {listError && (
        <p className={styles.note} role="status">
          Past conversations are unavailable: {listError}
        </p>
      )}

      {/* Focusable so keyboard users can scroll the history; role=log announces new messages. */}
      <div
        ref={logRef}
        className={styles.log}
        role="log"
        aria-live="polite"
        aria-label="Conversation with the assistant"
        aria-busy={historyLoading}
        tabIndex={0}
        data-testid="chat-log"
      >
        {historyLoading ? (
          <p className={styles.placeholder}>
            <span className="spinner" aria-hidden="true" /> Loading conversation…
          </p>
        ) : messages.length === 0 ? (
          <div className={styles.intro}>
            <p className={styles.introTitle}>Manage tasks by chatting</p>
            <p>Tell the assistant what to add, finish, change or remove. Try:</p>
            <ul className={styles.suggestions}>
              {SUGGESTIONS.map((s) => (
                <li key={s}>
                  <button type="button" className={styles.suggestion} onClick={() => void send(s)} disabled={pending}>
                    {s}
                  </button>
                </li>
              ))}
            </ul>
          </div>
        ) : (
          messages.map((m) => <MessageRow key={m.id} message={m} />)
        )}
        {pending && (
          <div className={styles.assistantRow} role="status">
            <div className={`${styles.assistantBubble} ${styles.typing}`}>
              <span className={styles.dots} aria-hidden="true">
                <span />
                <span />
                <span />
              </span>
              <span className="visually-hidden">The assistant is thinking…</span>
            </div>
          </div>
        )}
      </div>

      {error && (
        <div className={styles.error}>
          <div className="alert" role="alert">
            {error}
          </div>
        </div>
      )}
      {note && (
        <p className={styles.offlineNote} data-testid="chat-note">
          {note}
        </p>
      )}

      <form className={styles.composer} onSubmit={onSubmit}>
        <label htmlFor="chat-input" className="visually-hidden">
          Message the assistant
        </label>
        <textarea
          id="chat-input"
          ref={inputRef}
          className={styles.input}
          rows={2}
          placeholder="Ask the assistant…"
          aria-describedby="chat-hint chat-counter"
          aria-keyshortcuts={CHAT_SHORTCUTS}
          aria-invalid={tooLong ? true : undefined}
          value={input}
          onChange={(e) => {
            setInput(e.target.value);
            if (error && charCount(e.target.value) <= CHAT_MAX_CHARS) setError(null);
          }}
          onKeyDown={onKeyDown}
          onPaste={onPaste}
        />
        <button type="submit" className={`btn btn-primary ${styles.send}`} disabled={pending || !input.trim() || tooLong}>
          {pending ? "Sending…" : "Send"}
        </button>
      </form>
      <div className={styles.footer}>
        <p id="chat-hint" className={styles.hint}>
          <span className={styles.keyboardOnly}>Enter sends · Shift+Enter: new line · / or Alt+C: back here</span>
        </p>
        <p id="chat-counter" className={tooLong ? styles.counterOver : styles.counter} hidden={!showCounter} data-testid="chat-counter">
          {length.toLocaleString("en-GB")} / {CHAT_MAX_CHARS.toLocaleString("en-GB")} characters
          {tooLong ? ` — ${(length - CHAT_MAX_CHARS).toLocaleString("en-GB")} too many` : ""}
        </p>
      </div>
    </section>
  );
});

export default ChatPanel;

function MessageRow({ message: m }: { message: ChatMessage }) {
  const user = m.role === "user";
  const question = !user && isQuestion(m.content, m.actions ?? []);
  const views = user ? [] : presentActions(m.content, m.actions ?? []);
  const done = views.filter((v) => v.kind === "done").length;
  return (
    <div className={user ? styles.userRow : styles.assistantRow} data-testid={`chat-${m.role}`} data-question={question || undefined}>
      <div className={user ? styles.userBubble : question ? `${styles.assistantBubble} ${styles.questionBubble}` : styles.assistantBubble}>
        <span className="visually-hidden">{user ? "You said:" : question ? "The assistant asks:" : "Assistant:"}</span>
        {question && (
          <span className={styles.questionTag} aria-hidden="true">
            Question
          </span>
        )}
        {m.content}
      </div>
      {views.length > 0 && (
        <details className={styles.details}>
          <summary className={styles.summary}>
            {done > 0 ? `What I did (${done})` : "Details"}
            {views.length > done ? ` · ${views.length - done} not done` : ""}
          </summary>
          <ul className={styles.actions} aria-label="Actions taken">
            {views.map((v, i) => (
              <li key={i} className={v.kind === "failed" ? styles.actionFailed : v.kind === "question" ? styles.actionQuestion : styles.action}>
                <span className={styles.actionIcon} aria-hidden="true">
                  {v.kind === "failed" ? "!" : v.kind === "question" ? "?" : "✓"}
                </span>
                <span className={styles.actionTool}>{v.label}</span>
                <span className={styles.actionText}>
                  {v.text}
                  {v.items.length > 0 && (
                    <ul className={styles.items}>
                      {v.items.map((item, j) => (
                        <li key={j}>{item}</li>
                      ))}
                    </ul>
                  )}
                </span>
              </li>
            ))}
          </ul>
        </details>
      )}
    </div>
  );
}
