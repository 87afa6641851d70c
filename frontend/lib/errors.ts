// Backend errors in words a person understands. Pure functions: unit-tested in tests/unit.

const FIELD_NAMES: Record<string, string> = {
  email: "Email",
  password: "Password",
  name: "Name",
  title: "Title",
  description: "Description",
  priority: "Priority",
  due_date: "Due date",
  due_time: "Due time",
  tags: "Tags",
  message: "Message",
  q: "Search",
};

interface ValidationItem {
  loc?: unknown;
  msg?: unknown;
}

function cleanMessage(msg: string): string {
  // pydantic prefixes custom errors with "Value error, "
  const text = msg.replace(/^Value error, /i, "").trim();
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function describeValidation(items: ValidationItem[]): string {
  const lines = items.slice(0, 3).map((item) => {
    const loc = Array.isArray(item.loc) ? item.loc : [];
    const field = [...loc].reverse().find((part) => typeof part === "string" && part !== "body");
    const label = typeof field === "string" ? (FIELD_NAMES[field] ?? field.replaceAll("_", " ")) : "";
    const msg = typeof item.msg === "string" ? cleanMessage(item.msg) : "Invalid value";
    return label ? `${label}: ${msg.charAt(0).toLowerCase()}${msg.slice(1)}` : msg;
  });
  return lines.join(". ") || "Some of the values are not valid.";
}

/** The message to show for a failed API call, from its HTTP status, body and headers. */
export function describeError(status: number, body: unknown, retryAfter?: string | null): string {
  const detail = body && typeof body === "object" ? (body as { detail?: unknown }).detail : undefined;
  if (status === 429) {
    const seconds = Number(retryAfter);
    return Number.isFinite(seconds) && seconds > 0
      ? `Too many attempts. Please wait ${Math.ceil(seconds)} seconds and try again.`
      : "Too many attempts. Please wait a moment and try again.";
  }
  if (Array.isArray(detail)) return describeValidation(detail as ValidationItem[]);
  if (status === 401 && (detail === undefined || detail === "Not authenticated")) {
    return "Your session has ended. Please sign in again.";
  }
  if (typeof detail === "string" && detail.trim()) return detail;
  switch (status) {
    case 400:
      return "The request was not accepted. Please check what you entered.";
    case 401:
      return "Your session has ended. Please sign in again.";
    case 403:
      return "You are not allowed to do that.";
    case 404:
      return "That item no longer exists. It may have been deleted.";
    case 409:
      return "That already exists.";
    case 413:
      return "That is too long. Please shorten it and try again.";
    case 502:
      return "The task service is unreachable right now. Please try again in a moment.";
    case 503:
      return "The service is temporarily unavailable. Please try again in a moment.";
    case 504:
      return "The server took too long to answer. Please try again.";
    default:
      return status >= 500
        ? "Something went wrong on our side. Please try again."
        : "Something went wrong. Please try again.";
  }
}

export const NETWORK_ERROR = "Can't reach the app. Check your connection and try again.";
