"use client";

import { useCallback, useEffect, useRef, useState, type FormEvent } from "react";

import { api, errorMessage } from "@/lib/api";
import { SORT_OPTIONS } from "@/lib/format";
import type { SortKey, StatusFilter, Task, TaskInput, TaskPage } from "@/lib/types";

import styles from "./Board.module.css";
import TaskFields from "./TaskFields";
import TaskItem from "./TaskItem";

const EMPTY_INPUT: TaskInput = { title: "", description: "", priority: "medium", due_date: null, due_time: null };
const FILTERS: { key: StatusFilter; label: string }[] = [
  { key: "all", label: "All" },
  { key: "pending", label: "Pending" },
  { key: "completed", label: "Completed" },
];
const UNDO_MS = 8000;

interface Counts {
  all: number;
  pending: number;
  completed: number;
}

export default function Board({ version }: { version: number }) {
  const [filter, setFilter] = useState<StatusFilter>("all");
  const [search, setSearch] = useState("");
  const [query, setQuery] = useState("");
  const [sortKey, setSortKey] = useState<SortKey>("created-desc");
  const [tasks, setTasks] = useState<Task[] | null>(null);
  const [counts, setCounts] = useState<Counts | null>(null);
  const [loading, setLoading] = useState(true);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [draft, setDraft] = useState<TaskInput>(EMPTY_INPUT);
  const [adding, setAdding] = useState(false);
  const [addError, setAddError] = useState<string | null>(null);
  const [undo, setUndo] = useState<Task | null>(null);
  const [announcement, setAnnouncement] = useState("");
  const [reloadKey, setReloadKey] = useState(0);
  const undoTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const titleRef = useRef<HTMLInputElement>(null);
  const undoButton = useRef<HTMLButtonElement>(null);

  // Debounce the search box so typing does not fire a request per key.
  useEffect(() => {
    const timer = setTimeout(() => setQuery(search.trim()), 250);
    return () => clearTimeout(timer);
  }, [search]);

  const reload = useCallback(() => setReloadKey((k) => k + 1), []);

  useEffect(() => {
    const controller = new AbortController();
    const option = SORT_OPTIONS.find((o) => o.key === sortKey) ?? SORT_OPTIONS[0]!;
    const params = new URLSearchParams({ status: filter, sort: option.sort, order: option.order, limit: "200" });
    if (query) params.set("q", query);
    const count = (status: StatusFilter) =>
      api<TaskPage>(`/api/tasks?status=${status}&limit=1`, { signal: controller.signal }).then((p) => p.total);
    // eslint-disable-next-line react-hooks/set-state-in-effect
    setLoading(true);
    Promise.all([api<TaskPage>(`/api/tasks?${params}`, { signal: controller.signal }), count("pending"), count("completed")])
      .then(([page, pending, completed]) => {
        setTasks(page.items);
        setCounts({ all: pending + completed, pending, completed });
        setLoadError(null);
        setLoading(false);
      })
      .catch((err: unknown) => {
        if (controller.signal.aborted) return;
        setLoadError(errorMessage(err));
        setLoading(false);
      });
    return () => controller.abort();
  }, [filter, query, sortKey, version, reloadKey]);

  useEffect(() => () => {
    if (undoTimer.current) clearTimeout(undoTimer.current);
  }, []);

  // After a delete the button that had focus is gone: give keyboard users the Undo button instead.
  useEffect(() => {
    if (undo) undoButton.current?.focus();
  }, [undo]);

  async function addTask(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!draft.title.trim()) {
      setAddError("Title: please enter a title.");
      titleRef.current?.focus();
      return;
    }
    setAdding(true);
    setAddError(null);
    try {
      const created = await api<Task>("/api/tasks", { method: "POST", body: cleanInput(draft) });
      setDraft(EMPTY_INPUT);
      setAnnouncement(`Added “${created.title}”.`);
      titleRef.current?.focus();
      reload();
    } catch (err) {
      setAddError(errorMessage(err));
    } finally {
      setAdding(false);
    }
  }

  async function toggle(task: Task): Promise<boolean> {
    setActionError(null);
    try {
      const updated = await api<Task>(`/api/tasks/${task.id}/complete`, { method: "POST" });
      setAnnouncement(updated.completed ? `Marked “${updated.title}” as done.` : `Reopened “${updated.title}”.`);
      reload();
      return true;
    } catch (err) {
      setActionError(errorMessage(err));
      return false;
    }
  }

  async function save(task: Task, changes: TaskInput): Promise<string | null> {
    setActionError(null);
    try {
      await api<Task>(`/api/tasks/${task.id}`, { method: "PATCH", body: cleanInput(changes) });
      setAnnouncement(`Saved “${changes.title.trim()}”.`);
      reload();
      return null;
    } catch (err) {
      return errorMessage(err);
    }
  }

  async function remove(task: Task) {
    setActionError(null);
    try {
      await api(`/api/tasks/${task.id}`, { method: "DELETE" });
      setTasks((current) => current?.filter((t) => t.id !== task.id) ?? current);
      setUndo(task);
      if (undoTimer.current) clearTimeout(undoTimer.current);
      undoTimer.current = setTimeout(() => setUndo(null), UNDO_MS);
      reload();
    } catch (err) {
      setActionError(errorMessage(err));
    }
  }

  async function undoDelete() {
    if (!undo) return;
    const task = undo;
    setUndo(null);
    if (undoTimer.current) clearTimeout(undoTimer.current);
    try {
      await api<Task>("/api/tasks", {
        method: "POST",
        body: {
          title: task.title,
          description: task.description,
          priority: task.priority,
          due_date: task.due_date,
          due_time: task.due_time,
          tags: task.tags,
          completed: task.completed,
        },
      });
      setAnnouncement(`Restored “${task.title}”.`);
      reload();
    } catch (err) {
      setActionError(errorMessage(err));
    }
  }

  const filtering = filter !== "all" || query !== "";
  return (
    <div className={styles.board}>
      <section className={styles.card} aria-labelledby="add-heading">
        <h2 id="add-heading" className={styles.heading}>
          Add a task
        </h2>
        <form onSubmit={addTask} noValidate>
          <TaskFields idPrefix="new" value={draft} onChange={setDraft} titleRef={titleRef} />
          {addError && (
            <div className="alert" role="alert">
              {addError}
            </div>
          )}
          <div className={styles.formActions}>
            <button type="submit" className="btn btn-primary" disabled={adding}>
              {adding ? "Adding…" : "Add task"}
            </button>
          </div>
        </form>
      </section>

      <section className={styles.card} aria-labelledby="tasks-heading">
        <div className={styles.listHeader}>
          <h2 id="tasks-heading" className={styles.heading}>
            Your tasks
          </h2>
          {counts && (
            <p className={styles.summary} data-testid="counts">
              {counts.pending} pending · {counts.completed} done
            </p>
          )}
        </div>

        <div className={styles.toolbar}>
          <div className={styles.filters} role="group" aria-label="Show">
            {FILTERS.map((f) => (
              <button
                key={f.key}
                type="button"
                className={styles.filter}
                aria-pressed={filter === f.key}
                onClick={() => setFilter(f.key)}
              >
                {f.label}
                {counts && <span className={styles.count}>{counts[f.key]}</span>}
              </button>
            ))}
          </div>
          <div className={styles.searchSort}>
            <div className={styles.field}>
              <label htmlFor="search">Search</label>
              <input id="search" type="search" maxLength={200} placeholder="Title or description" value={search} onChange={(e) => setSearch(e.target.value)} />
            </div>
            <div className={styles.field}>
              <label htmlFor="sort">Sort by</label>
              <select id="sort" value={sortKey} onChange={(e) => setSortKey(e.target.value as SortKey)}>
                {SORT_OPTIONS.map((o) => (
                  <option key={o.key} value={o.key}>
                    {o.label}
                  </option>
                ))}
              </select>
            </div>
          </div>
        </div>

        {actionError && (
          <div className="alert" role="alert">
            <span>{actionError}</span>
            <button type="button" className="btn btn-small" onClick={() => setActionError(null)}>
              Dismiss
            </button>
          </div>
        )}

        <div aria-busy={loading}>
          {loadError ? (
            <div className="alert" role="alert">
              <span>Couldn’t load your tasks. {loadError}</span>
              <button type="button" className="btn btn-small" onClick={reload}>
                Try again
              </button>
            </div>
          ) : tasks === null ? (
            <p className={styles.loading}>
              <span className="spinner" aria-hidden="true" /> Loading your tasks…
            </p>
          ) : tasks.length === 0 ? (
            <div className={styles.empty}>
              {filtering ? (
                <p>No tasks match. Try another filter or search.</p>
              ) : (
                <>
                  <p className={styles.emptyTitle}>No tasks yet</p>
                  <p>Add one above, or ask the assistant: “add buy milk tomorrow”.</p>
                </>
              )}
            </div>
          ) : (
            <ul className={styles.list} aria-label="Tasks">
              {tasks.map((task) => (
                <TaskItem key={`${task.id}-${task.updated_at}`} task={task} onToggle={toggle} onSave={save} onDelete={remove} />
              ))}
            </ul>
          )}
        </div>
      </section>

      <p className="visually-hidden" role="status" aria-live="polite">
        {announcement}
      </p>

      {undo && (
        <div className={styles.toast} role="status">
          <span>Deleted “{undo.title}”.</span>
          <button ref={undoButton} type="button" className="btn btn-small" onClick={undoDelete}>
            Undo
          </button>
        </div>
      )}
    </div>
  );
}

function cleanInput(input: TaskInput): TaskInput {
  return {
    title: input.title.trim(),
    description: input.description.trim(),
    priority: input.priority,
    due_date: input.due_date || null,
    due_time: (input.due_date && input.due_time) || null,
  };
}
