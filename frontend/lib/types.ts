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
  /** The whole account's counts, whatever the page's filters (one request gives list and tabs). */
  counts: TaskCounts;
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

// --- board v2 (issue #19); the names match the backend's schemas --------------------------------

/** GET /api/tasks `due=`: "today" and "overdue" are open tasks due on / before the client's date. */
export type DueFilter = "any" | "today" | "overdue";

export interface TaskCounts {
  all: number;
  open: number;
  completed: number;
  today: number;
  overdue: number;
}

/** POST /api/tasks/parse: a task read from one line ("buy bread tomorrow 5pm !high #shop"). */
export interface TaskDraft {
  title: string;
  description: string;
  priority: Priority;
  due_date: string | null;
  due_time: string | null;
  tags: string[];
}

/** DELETE /api/tasks/completed. */
export interface DeletedTasks {
  deleted: number[];
}

/** POST /api/tasks/restore (body: { ids }). */
export interface RestoredTasks {
  restored: Task[];
}
