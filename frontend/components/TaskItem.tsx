"use client";

import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from "react";

import { TITLE_MISSING } from "@/lib/board-state";
import { PRIORITY_LABEL, describeDue, withDueTime } from "@/lib/format";
import type { Task, TaskInput } from "@/lib/types";

import styles from "./Board.module.css";
import TaskFields from "./TaskFields";

interface Props {
  task: Task;
  onToggle: (task: Task) => Promise<boolean>;
  onSave: (task: Task, changes: TaskInput) => Promise<string | null>;
  onDelete: (task: Task) => Promise<void>;
  /** What quick add understood for this task, shown on it right after it was added. */
  understood?: string[] | null;
}

export default function TaskItem({ task, onToggle, onSave, onDelete, understood }: Props) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState<TaskInput>(() => toInput(task));
  const [busy, setBusy] = useState(false);
  // Shown at once when clicked; the board reloads with the saved state right after.
  const [checked, setChecked] = useState(task.completed);
  // The live board passes in changes made elsewhere: the box follows them.
  const [shownCompleted, setShownCompleted] = useState(task.completed);
  if (shownCompleted !== task.completed) {
    setShownCompleted(task.completed);
    setChecked(task.completed);
  }
  const [error, setError] = useState<string | null>(null);
  const [titleError, setTitleError] = useState<string | null>(null);
  const titleRef = useRef<HTMLInputElement>(null);
  const editButtonRef = useRef<HTMLButtonElement>(null);
  const wasEditing = useRef(false);

  useEffect(() => {
    if (editing) titleRef.current?.focus();
    else if (wasEditing.current) editButtonRef.current?.focus();
    wasEditing.current = editing;
  }, [editing]);

  function startEdit() {
    setDraft(toInput(task));
    setError(null);
    setTitleError(null);
    setEditing(true);
  }

  async function save(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!draft.title.trim()) {
      setTitleError(TITLE_MISSING);
      titleRef.current?.focus();
      return;
    }
    setBusy(true);
    const problem = await onSave(task, draft);
    setBusy(false);
    if (problem) setError(problem);
    else setEditing(false);
  }

  function onKeyDown(event: KeyboardEvent<HTMLFormElement>) {
    if (event.key === "Escape") {
      event.preventDefault();
      setEditing(false);
    }
  }

  if (editing) {
    return (
      <li className={`${styles.item} ${styles.itemEditing}`}>
        <form onSubmit={save} onKeyDown={onKeyDown} aria-label={`Edit “${task.title}”`}>
          <TaskFields
            idPrefix={`edit-${task.id}`}
            value={draft}
            onChange={(next) => {
              setDraft(next);
              if (next.title.trim()) setTitleError(null);
            }}
            titleRef={titleRef}
            compact
            titleError={titleError}
          />
          {error && (
            <div className="alert" role="alert">
              {error}
            </div>
          )}
          <div className={styles.editActions}>
            <button type="button" className="btn btn-small" onClick={() => setEditing(false)} disabled={busy}>
              Cancel
            </button>
            <button type="submit" className="btn btn-small btn-primary" disabled={busy}>
              {busy ? "Saving…" : "Save"}
            </button>
          </div>
        </form>
      </li>
    );
  }

  const due = task.due_date ? describeDue(task.due_date) : null;
  const dueText = due ? withDueTime(due.text, task.due_time) : "";
  return (
    <li
      className={`${styles.item} ${task.completed ? styles.done : ""} ${understood ? styles.justAdded : ""}`}
      data-testid="task"
      data-task-id={task.id}
    >
      {/* The label widens the tap target on touch screens without changing the layout. */}
      <label className={styles.checkTarget}>
        <input
          type="checkbox"
          className={styles.check}
          checked={checked}
          disabled={busy}
          aria-label={task.completed ? `Reopen “${task.title}”` : `Mark “${task.title}” as done`}
          onChange={async () => {
            setBusy(true);
            setChecked(!task.completed);
            const ok = await onToggle(task);
            if (!ok) setChecked(task.completed);
            setBusy(false);
          }}
        />
      </label>
      <div className={styles.itemBody}>
        <div className={styles.itemTitle} data-testid="task-title">
          {task.title}
        </div>
        {task.description && <p className={styles.itemDescription}>{task.description}</p>}
        <div className={styles.meta}>
          <span className={`${styles.badge} ${styles[`priority_${task.priority}`]}`}>{PRIORITY_LABEL[task.priority]} priority</span>
          {due && (
            <span
              className={`${styles.badge} ${due.overdue && !task.completed ? styles.overdue : due.soon ? styles.soon : styles.dueBadge}`}
            >
              {due.overdue && !task.completed ? "Overdue · " : "Due "}
              <time dateTime={task.due_time ? `${task.due_date}T${task.due_time}` : (task.due_date ?? undefined)}>{dueText}</time>
            </span>
          )}
          {task.tags.map((tag) => (
            <span key={tag} className={`${styles.badge} ${styles.tag}`}>
              #{tag}
            </span>
          ))}
        </div>
        {understood && (
          <p className={styles.understood} data-testid="understood">
            Added{understood.length ? ": " : "."}
            {understood.map((chip) => (
              <span key={chip} className={styles.chip}>
                {chip}
              </span>
            ))}
          </p>
        )}
      </div>
      <div className={styles.itemActions}>
        <button ref={editButtonRef} type="button" className="btn btn-small" onClick={startEdit} aria-label={`Edit “${task.title}”`}>
          Edit
        </button>
        <button
          type="button"
          className="btn btn-small btn-danger"
          disabled={busy}
          aria-label={`Delete “${task.title}”`}
          onClick={async () => {
            setBusy(true);
            await onDelete(task);
            setBusy(false);
          }}
        >
          Delete
        </button>
      </div>
    </li>
  );
}

function toInput(task: Task): TaskInput {
  return {
    title: task.title,
    description: task.description,
    priority: task.priority,
    due_date: task.due_date,
    due_time: task.due_time,
  };
}
