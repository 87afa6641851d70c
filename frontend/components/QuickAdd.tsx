"use client";
// One line to add a task: the backend's parser (POST /api/tasks/parse, the same one the chat uses)
// turns "buy bread tomorrow 5pm !high #shop" into a draft, which is then created as it is.
import { useState, type FormEvent } from "react";

import { api, errorMessage } from "@/lib/api";
import { todayIso } from "@/lib/format";
import type { TaskDraft, Task } from "@/lib/types";

import styles from "./Board.module.css";
import FieldError, { fieldA11y } from "./FieldError";

interface Props {
  /** Called with the created task and what the parser understood. */
  onAdded: (task: Task, draft: TaskDraft) => void;
}

export default function QuickAdd({ onAdded }: Props) {
  const [text, setText] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const typed = text.trim();
    if (!typed) {
      setError("Type a task first, for example “buy bread tomorrow 5pm !high”.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const draft = await api<TaskDraft>("/api/tasks/parse", { method: "POST", body: { text: typed, today: todayIso() } });
      if (!draft.title.trim()) {
        setError("That has a date or a tag but no task. Add what needs doing, for example “call mom friday”.");
        return;
      }
      const task = await api<Task>("/api/tasks", {
        method: "POST",
        body: {
          title: draft.title,
          description: draft.description,
          priority: draft.priority,
          due_date: draft.due_date,
          due_time: draft.due_date ? draft.due_time : null,
          tags: draft.tags,
        },
      });
      setText("");
      onAdded(task, draft);
    } catch (err) {
      // What was typed stays in the box, so a retry is one key away.
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className={styles.quickAdd} onSubmit={submit} noValidate>
      <label htmlFor="quick-add" className="visually-hidden">
        Quick add
      </label>
      <input
        id="quick-add"
        className={styles.quickInput}
        value={text}
        maxLength={500}
        autoComplete="off"
        enterKeyHint="done"
        placeholder="Add a task — try ‘buy bread tomorrow 5pm !high’"
        {...fieldA11y("quick-add", error, "quick-add-hint")}
        onChange={(e) => {
          setText(e.target.value);
          if (error) setError(null);
        }}
      />
      <button type="submit" className="btn btn-primary" disabled={busy}>
        {busy ? "Adding…" : "Add"}
      </button>
      <p id="quick-add-hint" className={styles.hint}>
        Dates (“tomorrow”, “fri 5pm”), <code>!high</code> or <code>!low</code>, and <code>#tags</code> are understood.
      </p>
      <div className={styles.quickError}>
        <FieldError fieldId="quick-add" message={error} />
      </div>
    </form>
  );
}
