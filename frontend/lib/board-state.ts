// The board's view, filter, search and sort, kept in the page URL (?view=today&status=open&q=…&sort=…).
// Pure functions: unit-tested in tests/unit/board.test.mjs.
import { SORT_OPTIONS, describeDue, withDueTime } from "./format";
import type { DueFilter, SortKey, StatusFilter, Task, TaskDraft } from "./types";

/** The board's status filter as the URL and the buttons say it ("open"; the API says "pending"). */
export type BoardStatus = "all" | "open" | "completed";

export interface BoardState {
  view: DueFilter;
  status: BoardStatus;
  q: string;
  sort: SortKey;
}

export const DEFAULT_BOARD_STATE: BoardState = { view: "any", status: "all", q: "", sort: "created-desc" };

const VIEWS: readonly DueFilter[] = ["any", "today", "overdue"];
const STATUSES: readonly BoardStatus[] = ["all", "open", "completed"];
const API_STATUS: Record<BoardStatus, StatusFilter> = { all: "all", open: "pending", completed: "completed" };
/** The most tasks one page shows; the board has no paging. */
export const PAGE_LIMIT = 200;

function pick<T extends string>(value: string | null, allowed: readonly T[], fallback: T): T {
  return allowed.includes(value as T) ? (value as T) : fallback;
}

/** The board state a URL's query describes; unknown or missing values fall back to the defaults. */
export function parseBoardState(search: URLSearchParams): BoardState {
  return {
    view: pick(search.get("view"), VIEWS, DEFAULT_BOARD_STATE.view),
    status: pick(search.get("status"), STATUSES, DEFAULT_BOARD_STATE.status),
    q: (search.get("q") ?? "").trim().slice(0, 200),
    sort: pick(
      search.get("sort"),
      SORT_OPTIONS.map((o) => o.key),
      DEFAULT_BOARD_STATE.sort,
    ),
  };
}

/** The page URL's query for a state ("" for the defaults), so a plain "/" stays plain. */
export function boardSearch(state: BoardState): string {
  const params = new URLSearchParams();
  if (state.view !== DEFAULT_BOARD_STATE.view) params.set("view", state.view);
  if (state.status !== DEFAULT_BOARD_STATE.status) params.set("status", state.status);
  if (state.q) params.set("q", state.q);
  if (state.sort !== DEFAULT_BOARD_STATE.sort) params.set("sort", state.sort);
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** The GET /api/tasks URL for a state; `today` is the browser's local date (YYYY-MM-DD). */
export function tasksUrl(state: BoardState, today: string): string {
  const option = SORT_OPTIONS.find((o) => o.key === state.sort) ?? SORT_OPTIONS[0]!;
  const params = new URLSearchParams({
    status: API_STATUS[state.status],
    due: state.view,
    sort: option.sort,
    order: option.order,
    limit: String(PAGE_LIMIT),
    today,
  });
  if (state.q) params.set("q", state.q);
  return `/api/tasks?${params}`;
}

/** Open tasks first, then completed ones, each in the order the API gave. */
export function groupByCompletion(tasks: Task[]): { open: Task[]; completed: Task[] } {
  return { open: tasks.filter((t) => !t.completed), completed: tasks.filter((t) => t.completed) };
}

/** What quick add understood, as short chips: ["Due Tomorrow, 17:00", "High priority", "#shop"]. */
export function understoodChips(draft: Pick<TaskDraft, "due_date" | "due_time" | "priority" | "tags">, now = new Date()): string[] {
  const chips: string[] = [];
  if (draft.due_date) chips.push(`Due ${withDueTime(describeDue(draft.due_date, now).text, draft.due_time)}`);
  if (draft.priority !== "medium") chips.push(`${draft.priority.charAt(0).toUpperCase()}${draft.priority.slice(1)} priority`);
  for (const tag of draft.tags) chips.push(`#${tag}`);
  return chips;
}

/** Shown under an empty title, in the add form and the inline editor. */
export const TITLE_MISSING = "Enter a title: what needs doing?";
