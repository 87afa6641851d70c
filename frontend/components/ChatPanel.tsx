"use client";

import { useCallback, useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from "react";

import { api, errorMessage } from "@/lib/api";
import { changesTasks, describeAction, shortDateTime, toolLabel } from "@/lib/format";
import type { ChatMessage, ChatReply, Conversation } from "@/lib/types";

import styles from "./ChatPanel.module.css";

const SUGGESTIONS = ["Add buy milk tomorrow", "What do I have pending?", "Add call the dentist, high priority"];

export default function ChatPanel({ onTasksChanged }: { onTasksChanged: () => void }) {
  const [conversations, setConversations] = useState<Conversation[] | null>(null);
  const [conversationId, setConversationId] = useState<number | null>(null);
  const [messages, setMessages] = useState<ChatMessage[]>([]);
  const [historyLoading, setHistoryLoading] = useState(false);
  const [listError, setListError] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [input, setInput] = useState("");
  const [pending, setPending] = useState(false);
  const logRef = useRef<HTMLDivElement>(null);
  const inputRef = useRef<HTMLTextAreaElement>(null);
  const nextId = useRef(1);

  const loadConversations = useCallback(async (): Promise<Conversation[] | null> => {
    try {
      const list = await api<Conversation[]>("/api/conversations");
      setConversations(list);
      setListError(null);
      return list;
    } catch (err) {
      setListError(errorMessage(err));
      return null;
    }
  }, []);

  const openConversation = useCallback(async (id: number | null) => {
    setConversationId(id);
    setError(null);
    if (id === null) {
      setMessages([]);
      return;
    }
    setHistoryLoading(true);
    try {
      setMessages(await api<ChatMessage[]>(`/api/conversations/${id}/messages`));
    } catch (err) {
      setMessages([]);
      setError(errorMessage(err));
    } finally {
      setHistoryLoading(false);
    }
  }, []);

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

  useEffect(() => {
    const log = logRef.current;
    if (log) log.scrollTop = log.scrollHeight;
  }, [messages, pending]);

  async function send(text: string) {
    const message = text.trim();
    if (!message || pending) return;
    setError(null);
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
      setConversationId(reply.conversation_id);
      if (changesTasks(reply.actions)) onTasksChanged();
      void loadConversations();
    } catch (err) {
      setMessages((current) => current.filter((m) => m.id !== optimistic.id));
      setInput(message);
      setError(errorMessage(err));
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
          <button type="button" className="btn btn-small" onClick={() => void openConversation(null)} disabled={pending}>
            New chat
          </button>
        </div>
      </header>
      {listError && (
        <p className={styles.note} role="status">
          Past conversations are unavailable: {listError}
        </p>
      )}

      <div ref={logRef} className={styles.log} role="log" aria-live="polite" aria-label="Conversation with the assistant" aria-busy={historyLoading}>
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
          messages.map((m) => (
            <div key={m.id} className={m.role === "user" ? styles.userRow : styles.assistantRow} data-testid={`chat-${m.role}`}>
              <div className={m.role === "user" ? styles.userBubble : styles.assistantBubble}>
                <span className="visually-hidden">{m.role === "user" ? "You said:" : "Assistant:"}</span>
                {m.content}
              </div>
              {m.actions && m.actions.length > 0 && (
                <ul className={styles.actions} aria-label="Actions taken">
                  {m.actions.map((a, i) => (
                    <li key={i} className={a.ok === false ? styles.actionFailed : styles.action}>
                      <span className={styles.actionIcon} aria-hidden="true">
                        {a.ok === false ? "!" : "✓"}
                      </span>
                      <span className={styles.actionTool}>{a.ok === false ? `Could not ${a.tool.split("_")[0]}` : toolLabel(a.tool)}</span>
                      <span>{describeAction(a)}</span>
                    </li>
                  ))}
                </ul>
              )}
            </div>
          ))
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

      <form className={styles.composer} onSubmit={onSubmit}>
        <label htmlFor="chat-input" className="visually-hidden">
          Message the assistant
        </label>
        <textarea
          id="chat-input"
          ref={inputRef}
          className={styles.input}
          rows={2}
          maxLength={2000}
          placeholder="Ask the assistant…"
          aria-describedby="chat-hint"
          value={input}
          onChange={(e) => setInput(e.target.value)}
          onKeyDown={onKeyDown}
        />
        <button type="submit" className="btn btn-primary" disabled={pending || !input.trim()}>
          {pending ? "Sending…" : "Send"}
        </button>
      </form>
      <p id="chat-hint" className={styles.hint}>
        Enter sends · Shift+Enter adds a new line
      </p>
    </section>
  );
}
