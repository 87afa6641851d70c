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

/** The backend's default chat limit (Settings.chat_max_message_chars); it counts characters
 * (code points) of the trimmed message, as charCount does. */
export const CHAT_MAX_CHARS = 2000;
/** Show the counter from this share of the limit on: earlier it is only noise. */
export const CHAT_COUNTER_FROM = 0.8;

export function charCount(text: string): number {
  return Array.from(text.trim()).length;
}

/** One task as the board reads it: "#12 buy milk · High priority · Due Tomorrow, 15:00". */
export function taskLine(task: { id?: unknown; title?: unknown; priority?: unknown; due_date?: unknown; due_time?: unknown; completed?: unknown }, now = new Date()): string {
  const parts: string[] = [`${typeof task.id === "number" ? `#${task.id} ` : ""}${String(task.title ?? "")}`.trim()];
  if (task.priority === "high" || task.priority === "low") parts.push(`${PRIORITY_LABEL[task.priority]} priority`);
  if (typeof task.due_date === "string" && /^\d{4}-\d{2}-\d{2}$/.test(task.due_date)) {
    const due = describeDue(task.due_date, now);
    const text = withDueTime(due.text, typeof task.due_time === "string" ? task.due_time : null);
    parts.push(due.overdue && task.completed !== true ? `Overdue · ${text}` : `Due ${text}`);
  }
  if (task.completed === true) parts.push("Done");
  return parts.join(" · ");
}

export interface ActionView {
  /** done: it happened; question: the assistant needs an answer first; failed: it did not happen. */
  kind: "done" | "question" | "failed";
  label: string;
  text: string;
  /** The tasks a listing found, one line each. */
  items: string[];
}

type ResultData = { message?: unknown; error?: unknown; task?: unknown; tasks?: unknown; candidates?: unknown };

function resultData(result: unknown): ResultData {
  if (result && typeof result === "object") return result as ResultData;
  if (typeof result === "string" && result.trim().startsWith("{")) {
    try {
      const parsed: unknown = JSON.parse(result);
      return parsed && typeof parsed === "object" ? (parsed as ResultData) : {};
    } catch {
      return {};
    }
  }
  return {};
}

const QUESTION_ERRORS = new Set(["ambiguous", "needs_confirmation"]);
const QUESTION_TEXT = /\b(did you mean|which (one|task)|do you mean|are you sure|shall i|should i|confirm)\b|\?\s*$/i;

/** Whether an assistant turn ends by asking the user something (did you mean…, which one, confirm). */
export function isQuestion(reply: string, actions: ChatAction[] = []): boolean {
  if (actions.some((a) => a.ok === false && QUESTION_ERRORS.has(String(resultData(a.result).error)))) return true;
  return /\?\s*$/.test(reply.trim()) || /\b(did you mean|which task|which one)\b/i.test(reply);
}

function normalize(text: string): string {
  return text.toLowerCase().replace(/\s+/g, " ").trim();
}

/** A listing's task lines ("- #1 buy milk (due tomorrow)") without their dashes. */
function listingLines(message: string): string[] {
  return message
    .split("\n")
    .slice(1)
    .filter((line) => line.startsWith("- "))
    .map((line) => line.slice(2));
}

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** A tool's task line in the board's words: "#4 buy bread (high priority, due tomorrow, 17:00)."
 * reads "#4 buy bread · High priority · Due Tomorrow, 17:00", and ISO dates as the board shows them. */
export function boardDates(text: string, now = new Date()): string {
  const withDays = text.replace(/\b(\d{4}-\d{2}-\d{2})\b/g, (iso) => describeDue(iso, now).text);
  return withDays.replace(/ \(([^()]*\b(?:due|priority|done)\b[^()]*)\)\.?/g, (_, inside: string) => {
    const parts: string[] = [];
    for (const part of inside.split(", ")) {
      // "due tomorrow, 17:00": the time belongs with the day before it.
      if (/^\d{1,2}:\d{2}$/.test(part) && parts.length > 0) parts[parts.length - 1] += `, ${part}`;
      else parts.push(part);
    }
    const words = parts.map((part) =>
      capitalize(part.replace(/^due (today|tomorrow|yesterday)\b/i, (__, day: string) => `due ${capitalize(day.toLowerCase())}`)),
    );
    return ` · ${words.join(" · ")}`;
  });
}

/** What each action did, in the board's words, without what the reply already says: a listing
 * the reply spells out, or a question the reply asks, appears once. */
export function presentActions(reply: string, actions: ChatAction[], now = new Date()): ActionView[] {
  const said = normalize(reply);
  const views: ActionView[] = [];
  for (const action of actions) {
    const data = resultData(action.result);
    const message = resultText(action.result);
    const error = typeof data.error === "string" ? data.error : "";
    const question = action.ok === false && (QUESTION_ERRORS.has(error) || QUESTION_TEXT.test(message));
    const listed = Array.isArray(data.tasks) ? (data.tasks as Record<string, unknown>[]) : Array.isArray(data.candidates) ? (data.candidates as Record<string, unknown>[]) : [];
    const titled = listed.filter((t) => typeof t.title === "string");
    // A listing the reply already shows (every title in it), or a sentence the reply repeats.
    if (titled.length > 0 && titled.length === listed.length && titled.every((t) => said.includes(normalize(String(t.title))))) continue;
    if ((question || action.tool === "list_tasks") && message && said.includes(normalize(message))) continue;
    const lines = listingLines(message);
    if (titled.length === 0 && lines.length > 0 && lines.every((line) => said.includes(normalize(line.replace(/\s*\(.*\)$/, ""))))) continue;
    const items = titled.length > 0 ? titled.map((t) => taskLine(t, now)) : listingLines(message).map((line) => boardDates(line, now));
    const task = data.task && typeof data.task === "object" ? (data.task as Record<string, unknown>) : null;
    let text: string;
    if (question) text = message;
    else if (task && action.ok !== false) text = taskLine(task, now);
    else if (items.length > 0) text = message.split("\n")[0]!.replace(/:$/, "");
    else text = boardDates(describeAction(action), now);
    const verb = action.tool.split("_")[0] ?? action.tool;
    views.push({
      kind: question ? "question" : action.ok === false ? "failed" : "done",
      label: question ? "Question" : action.ok === false ? `Could not ${verb}` : toolLabel(action.tool),
      text,
      items,
    });
  }
  return views;
}
