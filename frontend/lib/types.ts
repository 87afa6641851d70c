export type Priority = "low" | "medium" | "high";
export type StatusFilter = "all" | "pending" | "completed";
export type SortKey = "created-desc" | "created-asc" | "due-asc" | "priority-desc" | "title-asc";

export interface User {
  id: number;
  email: string;
  name: string;
  created_at: string;
}

export interface Task {
  id: number;
  title: string;
  description: string;
  completed: boolean;
  priority: Priority;
  due_date: string | null;
  /** "HH:MM", local wall-clock time like due_date; only with a due_date. */
  due_time: string | null;
  tags: string[];
  created_at: string;
  updated_at: string;
}

export interface TaskPage {
  items: Task[];
  total: number;
  limit: number;
  offset: number;
}

export interface TaskInput {
  title: string;
  description: string;
  priority: Priority;
  due_date: string | null;
  due_time: string | null;
}

export interface ChatAction {
  tool: string;
  arguments: Record<string, unknown>;
  result: unknown;
  ok: boolean;
}

export interface ChatReply {
  conversation_id: number;
  reply: string;
  actions: ChatAction[];
}

export interface Conversation {
  id: number;
  title: string;
  created_at: string;
  updated_at: string;
}

export interface ChatMessage {
  id: number | string;
  role: "user" | "assistant" | string;
  content: string;
  actions: ChatAction[] | null;
  created_at: string;
}

// --- board v2 (issue #19): views, counts, quick add, restore -----------------------------------

/** The status filter of GET /api/tasks since v2 ("open" replaces "pending"). */
export type TaskStatus = "all" | "open" | "completed";
/** The due-date view of GET /api/tasks: `due=any|today|overdue`. */
export type DueView = "any" | "today" | "overdue";

/** Sent with every page of tasks, so one request per refresh gives the list and every counter. */
export interface TaskCounts {
  all: number;
  open: number;
  completed: number;
  today: number;
  overdue: number;
}

export interface TaskListPage extends TaskPage {
  counts: TaskCounts;
}

/** POST /api/tasks/parse: what the quick-add text means; nothing is created. */
export interface ParsedTask {
  title: string;
  description: string;
  priority: Priority;
  due_date: string | null;
  due_time: string | null;
  tags: string[];
}

export interface RestoreResult {
  restored: Task[];
}

export interface ClearCompletedResult {
  deleted: number[];
}
