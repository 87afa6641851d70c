"use client";

import { useSearchParams } from "next/navigation";
import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore, type FormEvent } from "react";

import { api, errorMessage } from "@/lib/api";
import {
  TITLE_MISSING,
  boardSearch,
  groupByCompletion,
  parseBoardState,
  tasksUrl,
  understoodChips,
  type BoardState,
} from "@/lib/board-state";
import { SORT_OPTIONS, todayIso } from "@/lib/format";
import type { DeletedTasks, RestoredTasks, SortKey, Task, TaskDraft, TaskInput, TaskPage } from "@/lib/types";
import { useLivePage } from "@/lib/use-live-page";

import styles from "./Board.module.css";
import QuickAdd from "./QuickAdd";
import TaskFields from "./TaskFields";
import TaskItem from "./TaskItem";
import ViewTabs from "./ViewTabs";

const EMPTY_INPUT: TaskInput = { title: "", description: "", priority: "medium", due_date: null, due_time: null };
const UNDO_MS = 8000;
const UNDERSTOOD_MS = 12_000;
const NARROW_QUERY = "(max-width: 640px)";

interface Undo {
  message: string;
  ids: number[];
}

interface Props {
  /** Bumped by the dashboard when the chat changed tasks: the board reloads at once. */
  version: number;
  /** Whether the detailed add form starts open; by default open on wide screens, closed on phones. */
  detailsOpenByDefault?: boolean;
}

// Fired after the board writes the URL itself (pushState does not fire popstate).
const URL_CHANGED = "todo:board-url";

/** The page URL's query, read from the browser: follows pushState and back/forward at once. */
function subscribeLocation(onChange: () => void) {
  window.addEventListener("popstate", onChange);
  window.addEventListener(URL_CHANGED, onChange);
  return () => {
    window.removeEventListener("popstate", onChange);
    window.removeEventListener(URL_CHANGED, onChange);
  };
}

function subscribeNarrow(onChange: () => void) {
  const query = window.matchMedia(NARROW_QUERY);
  query.addEventListener("change", onChange);
  return () => query.removeEventListener("change", onChange);
}

export default function Board({ version, detailsOpenByDefault }: Props) {
  // The server renders from the request's query; in the browser the address bar is the truth.
  const serverSearch = useSearchParams().toString();
  const locationSearch = useSyncExternalStore(
    subscribeLocation,
    () => window.location.search,
    () => (serverSearch ? `?${serverSearch}` : ""),
  );
  const { view, status, q, sort } = useMemo(() => parseBoardState(new URLSearchParams(locationSearch)), [locationSearch]);

  const [search, setSearch] = useState(q);
  const [searchFromUrl, setSearchFromUrl] = useState(q);
  const [actionError, setActionError] = useState<string | null>(null);
  const [draft, setDraft] = useState<TaskInput>(EMPTY_INPUT);
  const [adding, setAdding] = useState(false);
  const [addError, setAddError] = useState<string | null>(null);
  const [titleError, setTitleError] = useState<string | null>(null);
  const [undo, setUndo] = useState<Undo | null>(null);
  // The task quick add just created, what it understood, and the page shown before it existed.
  const [justAdded, setJustAdded] = useState<{ task: Task; chips: string[]; before: TaskPage | null } | null>(null);
  const [announcement, setAnnouncement] = useState("");
  const [detailsChoice, setDetailsChoice] = useState<boolean | null>(null);
  const narrow = useSyncExternalStore(
    subscribeNarrow,
    () => window.matchMedia(NARROW_QUERY).matches,
    () => false,
  );
  const detailsOpen = detailsChoice ?? detailsOpenByDefault ?? !narrow;
  const undoTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const understoodTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const titleRef = useRef<HTMLInputElement>(null);
  const undoButton = useRef<HTMLButtonElement>(null);

  // Back/forward changed the search in the URL: the box shows it.
  if (q !== searchFromUrl) {
    setSearchFromUrl(q);
    if (search.trim() !== q) setSearch(q);
  }

  const makeUrl = useCallback(
    () => tasksUrl({ view, status, q, sort }, todayIso()),
    [view, status, q, sort],
  );
  const { page, error: loadError, loading, refresh } = useLivePage<TaskPage>(makeUrl, version);
  const tasks = page?.items ?? null;
  const counts = page?.counts ?? null;

  /** Put a new state in the URL: a new history entry, or (while typing a search) the same one. */
  const navigate = useCallback(
    (changes: Partial<BoardState>, mode: "push" | "replace" = "push") => {
      const next = { view, status, q, sort, ...changes };
      const url = `${window.location.pathname}${boardSearch(next)}${window.location.hash}`;
      if (mode === "push") window.history.pushState(null, "", url);
      else window.history.replaceState(null, "", url);
      window.dispatchEvent(new Event(URL_CHANGED));
    },
    [view, status, q, sort],
  );

  // Debounce the search box so typing does not fire a request per key.
  useEffect(() => {
    const typed = search.trim();
    if (typed === q) return;
    const timer = setTimeout(() => navigate({ q: typed }, "replace"), 250);
    return () => clearTimeout(timer);
  }, [search, q, navigate]);

  useEffect(
    () => () => {
      if (undoTimer.current) clearTimeout(undoTimer.current);
      if (understoodTimer.current) clearTimeout(understoodTimer.current);
    },
    [],
  );

  // After a delete the button that had focus is gone: give keyboard users the Undo button instead.
  useEffect(() => {
    if (undo) undoButton.current?.focus();
  }, [undo]);

  function offerUndo(next: Undo) {
    setUndo(next);
    if (undoTimer.current) clearTimeout(undoTimer.current);
    undoTimer.current = setTimeout(() => setUndo(null), UNDO_MS);
  }

  async function addTask(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!draft.title.trim()) {
      setTitleError(TITLE_MISSING);
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
      refresh();
    } catch (err) {
      setAddError(errorMessage(err));
    } finally {
      setAdding(false);
    }
  }

  function quickAdded(task: Task, parsed: TaskDraft) {
    const chips = understoodChips(parsed);
    setJustAdded({ task, chips, before: page });
    if (understoodTimer.current) clearTimeout(understoodTimer.current);
    understoodTimer.current = setTimeout(() => setJustAdded(null), UNDERSTOOD_MS);
    setAnnouncement(`Added “${task.title}”${chips.length ? `: ${chips.join(", ")}` : ""}.`);
    refresh();
  }

  async function toggle(task: Task): Promise<boolean> {
    setActionError(null);
    try {
      const updated = await api<Task>(`/api/tasks/${task.id}/complete`, { method: "POST" });
      setAnnouncement(updated.completed ? `Marked “${updated.title}” as done.` : `Reopened “${updated.title}”.`);
      refresh();
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
      refresh();
      return null;
    } catch (err) {
      return errorMessage(err);
    }
  }

  async function remove(task: Task) {
    setActionError(null);
    try {
      await api(`/api/tasks/${task.id}`, { method: "DELETE" });
      offerUndo({ message: `Deleted “${task.title}”.`, ids: [task.id] });
      refresh();
    } catch (err) {
      setActionError(errorMessage(err));
    }
  }

  async function clearCompleted() {
    setActionError(null);
    try {
      const { deleted } = await api<DeletedTasks>("/api/tasks/completed", { method: "DELETE" });
      if (deleted.length) {
        offerUndo({ message: `Cleared ${deleted.length} completed ${deleted.length === 1 ? "task" : "tasks"}.`, ids: deleted });
      } else {
        setAnnouncement("There were no completed tasks to clear.");
      }
      refresh();
    } catch (err) {
      setActionError(errorMessage(err));
    }
  }

  async function undoDelete() {
    if (!undo) return;
    const { ids } = undo;
    setUndo(null);
    if (undoTimer.current) clearTimeout(undoTimer.current);
    try {
      // The backend keeps what was deleted: the tasks come back with their ids and creation times.
      const { restored } = await api<RestoredTasks>("/api/tasks/restore", { method: "POST", body: { ids } });
      setAnnouncement(restored.length === 1 ? `Restored “${restored[0]!.title}”.` : `Restored ${restored.length} tasks.`);
      refresh();
    } catch (err) {
      setActionError(errorMessage(err));
    }
  }

  const { open, completed } = useMemo(() => groupByCompletion(tasks ?? []), [tasks]);
  const filtering = view !== "any" || status !== "all" || q !== "";
  // Added, but the current view, filter or search leaves it out: say so instead of showing nothing.
  const addedOutOfView = justAdded && tasks && page !== justAdded.before && !tasks.some((t) => t.id === justAdded.task.id);
  const renderItems = (items: Task[], label: string) => (
    <ul className={styles.list} aria-label={label}>
      {items.map((task) => (
        <TaskItem
          key={task.id}
          task={task}
          onToggle={toggle}
          onSave={save}
          onDelete={remove}
          understood={justAdded?.task.id === task.id ? justAdded.chips : null}
        />
      ))}
    </ul>
  );

  return (
    <div className={styles.board}>
      <section className={styles.card} aria-labelledby="add-heading">
        <h2 id="add-heading" className={styles.heading}>
          Add a task
        </h2>
        <QuickAdd onAdded={quickAdded} />
        {addedOutOfView && (
          <p className={styles.understood} data-testid="added-out-of-view">
            Added “{justAdded.task.title}”{justAdded.chips.length ? ":" : "."}
            {justAdded.chips.map((chip) => (
              <span key={chip} className={styles.chip}>
                {chip}
              </span>
            ))}
            <span>— not in this view.</span>
            <button type="button" className={styles.disclosure} onClick={() => navigate({ view: "any", status: "all", q: "" })}>
              Show all tasks
            </button>
          </p>
        )}
        <button
          type="button"
          className={styles.disclosure}
          aria-expanded={detailsOpen}
          aria-controls="add-details"
          onClick={() => setDetailsChoice(!detailsOpen)}
        >
          {detailsOpen ? "Hide the detailed form" : "Add with details (description, date, time)"}
        </button>
        <form id="add-details" onSubmit={addTask} noValidate hidden={!detailsOpen} aria-label="Add a task with details">
          <TaskFields
            idPrefix="new"
            value={draft}
            onChange={(next) => {
              setDraft(next);
              if (next.title.trim()) setTitleError(null);
            }}
            titleRef={titleRef}
            titleError={titleError}
          />
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
              {counts.open} open · {counts.completed} done
            </p>
          )}
        </div>

        <div className={styles.toolbar}>
          <ViewTabs
            view={view}
            status={status}
            counts={counts}
            onView={(next) => navigate({ view: next })}
            onStatus={(next) => navigate({ status: next })}
          />
          <div className={styles.searchSort}>
            <div className={styles.field}>
              <label htmlFor="search">Search</label>
              <input id="search" type="search" maxLength={200} placeholder="Title or description" value={search} onChange={(e) => setSearch(e.target.value)} />
            </div>
            <div className={styles.field}>
              <label htmlFor="sort">Sort by</label>
              <select id="sort" value={sort} onChange={(e) => navigate({ sort: e.target.value as SortKey })}>
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
          {loadError && tasks === null ? (
            <div className="alert" role="alert">
              <span>Couldn’t load your tasks. {loadError}</span>
              <button type="button" className="btn btn-small" onClick={refresh}>
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
                <p>No tasks match. Try another view, filter or search.</p>
              ) : (
                <>
                  <p className={styles.emptyTitle}>No tasks yet</p>
                  <p>Add one above, or ask the assistant: “add buy milk tomorrow”.</p>
                </>
              )}
            </div>
          ) : (
            <>
              {open.length > 0 && renderItems(open, "Open tasks")}
              {completed.length > 0 &&
                (status === "completed" ? (
                  renderItems(completed, "Completed tasks")
                ) : (
                  <div className={styles.completedGroup}>
                    <h3 className={styles.groupHeading} id="completed-heading">
                      Completed ({completed.length})
                    </h3>
                    {renderItems(completed, "Completed tasks")}
                  </div>
                ))}
            </>
          )}
          {loadError && tasks !== null && (
            <p className={styles.stale} role="status">
              Couldn’t refresh the list — retrying.
            </p>
          )}
        </div>

        {counts && counts.completed > 0 && status !== "open" && (
          <div className={styles.listFooter}>
            <button type="button" className="btn btn-small" onClick={clearCompleted}>
              Clear completed ({counts.completed})
            </button>
          </div>
        )}
      </section>

      <p className="visually-hidden" role="status" aria-live="polite">
        {announcement}
      </p>

      {undo && (
        <div className={styles.toast} role="status">
          <span>{undo.message}</span>
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
