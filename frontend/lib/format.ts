// Display helpers (pure; unit-tested).
import type { ChatAction, Priority, SortKey } from "./types";

export const PRIORITY_LABEL: Record<Priority, string> = { low: "Low", medium: "Medium", high: "High" };

export const SORT_OPTIONS: { key: SortKey; label: string; sort: string; order: "asc" | "desc" }[] = [
  { key: "created-desc", label: "Newest first", sort: "created", order: "desc" },
  { key: "created-asc", label: "Oldest first", sort: "created", order: "asc" },
  { key: "due-asc", label: "Due date", sort: "due", order: "asc" },
  { key: "priority-desc", label: "Priority (high first)", sort: "priority", order: "desc" },
  { key: "title-asc", label: "Title (A–Z)", sort: "title", order: "asc" },
];

/** Today's date as YYYY-MM-DD in the browser's time zone. */
export function todayIso(now = new Date()): string {
  const y = now.getFullYear();
  const m = String(now.getMonth() + 1).padStart(2, "0");
  const d = String(now.getDate()).padStart(2, "0");
  return `${y}-${m}-${d}`;
}

/** "Today", "Tomorrow", "Yesterday", or e.g. "Mon, 3 Mar" (with the year when not this year). */
export function describeDue(due: string, now = new Date()): { text: string; overdue: boolean; soon: boolean } {
  const [y, m, d] = due.split("-").map(Number) as [number, number, number];
  const dueDate = new Date(y, m - 1, d);
  const today = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  const days = Math.round((dueDate.getTime() - today.getTime()) / 86_400_000);
  let text: string;
  if (days === 0) text = "Today";
  else if (days === 1) text = "Tomorrow";
  else if (days === -1) text = "Yesterday";
  else
    text = dueDate.toLocaleDateString("en-GB", {
      weekday: "short",
      day: "numeric",
      month: "short",
      ...(dueDate.getFullYear() === today.getFullYear() ? {} : { year: "numeric" }),
    });
  return { text, overdue: days < 0, soon: days >= 0 && days <= 1 };
}

/** A due day's text with its time, as the chat writes it: "Fri 4 Dec, 15:00". */
export function withDueTime(dayText: string, dueTime: string | null | undefined): string {
  return dueTime ? `${dayText}, ${dueTime.slice(0, 5)}` : dayText;
}

const TOOL_LABEL: Record<string, string> = {
  add_task: "Added",
  list_tasks: "Looked up",
  count_tasks: "Counted",
  complete_task: "Completed",
  reopen_task: "Reopened",
  delete_task: "Deleted",
  update_task: "Updated",
  clear_completed: "Cleared",
};

export function toolLabel(tool: string): string {
  return TOOL_LABEL[tool] ?? tool.replaceAll("_", " ").replace(/^./, (c) => c.toUpperCase());
}

/** The human part of a tool result: a plain sentence, or the `message` of a JSON result. */
function resultText(result: unknown): string {
  if (typeof result === "string") {
    const text = result.trim();
    if (text.startsWith("{")) {
      try {
        return resultText(JSON.parse(text));
      } catch {
        return text;
      }
    }
    return text;
  }
  if (result && typeof result === "object" && typeof (result as { message?: unknown }).message === "string") {
    return ((result as { message: string }).message).trim();
  }
  return "";
}

/** What the assistant did, without repeating the label shown beside it ("Added" + "#2 buy milk."). */
export function describeAction(action: ChatAction): string {
  const label = toolLabel(action.tool);
  const text = resultText(action.result);
  if (text) {
    return text.toLowerCase().startsWith(`${label.toLowerCase()} `) ? text.slice(label.length + 1) : text;
  }
  const title = action.arguments?.title ?? action.arguments?.task;
  return typeof title === "string" || typeof title === "number" ? `“${title}”` : "";
}

/** Tools that only read: a reply whose actions are all of these leaves the board unchanged. */
const READ_ONLY_TOOLS = new Set(["list_tasks", "count_tasks"]);

export function changesTasks(actions: ChatAction[]): boolean {
  return actions.some((a) => a.ok !== false && !READ_ONLY_TOOLS.has(a.tool));
}

export function shortDateTime(iso: string, now = new Date()): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const sameDay = date.toDateString() === now.toDateString();
  return sameDay
    ? date.toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" })
    : date.toLocaleDateString("en-GB", { day: "numeric", month: "short" });
}
