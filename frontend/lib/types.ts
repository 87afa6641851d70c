// The API's shapes, from the backend's OpenAPI schema (lib/api-types.ts, generated: `make
// api-types`; `make check-api-types` fails when it is stale). The names the components import
// stay here; only what the browser adds of its own (sort keys, local chat messages) is written out.
import type { components, operations } from "./api-types";

type Schemas = components["schemas"];
type TaskListQuery = NonNullable<operations["list_tasks_api_tasks_get"]["parameters"]["query"]>;

export type Priority = Schemas["Priority"];
export type StatusFilter = NonNullable<TaskListQuery["status"]>;
/** The board's views: "today" and "overdue" are open tasks due on / before the client's date. */
export type DueFilter = NonNullable<TaskListQuery["due"]>;
export type SortKey = "created-desc" | "created-asc" | "due-asc" | "priority-desc" | "title-asc";

export type User = Schemas["UserOut"];

/** A task; due_time is "HH:MM", local wall-clock time like due_date, only with a due_date. */
export type Task = Schemas["TaskOut"];
/** A page of tasks with the whole account's counts (GET /api/tasks; ETag, 304 on If-None-Match). */
export type TaskPage = Schemas["TaskPage"];
export type TaskCounts = Schemas["TaskCounts"];
/** What the task form edits: TaskCreate's fields, all present. */
export type TaskInput = Required<Pick<Schemas["TaskCreate"], "title" | "description" | "priority" | "due_date" | "due_time">>;
/** POST /api/tasks/parse: a task read from one line ("buy bread tomorrow 5pm !high #shop"). */
export type TaskDraft = Schemas["TaskDraft"];
/** DELETE /api/tasks/completed. */
export type DeletedTasks = Schemas["DeletedTasks"];
/** POST /api/tasks/restore (body: { ids }). */
export type RestoredTasks = Schemas["RestoredTasks"];

export type ChatAction = Schemas["ActionOut"];
export type ChatReply = Schemas["ChatOut"];
export type Conversation = Schemas["ConversationOut"];

/** A chat message as shown: from the API (MessageOut), or the browser's own before the reply. */
export type ChatMessage = Omit<Schemas["MessageOut"], "id" | "role" | "actions"> & {
  id: number | string;
  role: "user" | "assistant" | string;
  actions: ChatAction[] | null;
};

/** The board's status filter as the address bar and the tabs say it; the API calls "open" "pending". */
export type TaskStatus = "all" | "open" | "completed";
