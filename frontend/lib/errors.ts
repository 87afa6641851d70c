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

export interface ValidationItem {
  loc?: unknown;
  msg?: unknown;
  type?: unknown;
  ctx?: unknown;
}

/** Per-field messages, keyed by the request's field name (`email`, `due_date`, …). */
export type FieldErrors = Record<string, string>;

function cleanMessage(msg: string): string {
  // pydantic prefixes custom errors with "Value error, "
  const text = msg.replace(/^Value error, /i, "").trim();
  const sentence = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(sentence) ? sentence : `${sentence}.`;
}

function fieldOf(item: ValidationItem): string | null {
  const loc = Array.isArray(item.loc) ? item.loc : [];
  const field = [...loc].reverse().find((part) => typeof part === "string" && part !== "body");
  return typeof field === "string" ? field : null;
}

function ctxNumber(item: ValidationItem, key: string): number | null {
  const ctx = item.ctx && typeof item.ctx === "object" ? (item.ctx as Record<string, unknown>) : {};
  const value = Number(ctx[key]);
  if (Number.isFinite(value)) return value;
  // Hand-written 422s (e.g. the chat's length limit) carry the number only in the message.
  const inMessage = typeof item.msg === "string" ? /(\d[\d,]*)/.exec(item.msg) : null;
  return inMessage ? Number(inMessage[1]!.replaceAll(",", "")) : null;
}

function plural(n: number, word: string): string {
  return `${n.toLocaleString("en-GB")} ${word}${n === 1 ? "" : "s"}`;
}

/** One validation problem in plain words, for the field it belongs to (never pydantic's text). */
export function plainFieldMessage(item: ValidationItem): string {
  const field = fieldOf(item) ?? "";
  const type = typeof item.type === "string" ? item.type : "";
  const msg = typeof item.msg === "string" ? item.msg : "";
  const label = (FIELD_NAMES[field] ?? field.replaceAll("_", " ")).toLowerCase() || "a value";
  if (field === "email" && type !== "missing" && type !== "string_too_long") return "Enter an email address like name@example.com.";
  switch (type) {
    case "missing":
      return `Enter ${field === "email" ? "an email address" : label === "a value" ? label : `a ${label}`}.`;
    case "string_too_short": {
      const min = ctxNumber(item, "min_length");
      return min === null || min <= 1 ? `Enter ${label === "a value" ? label : `a ${label}`}.` : `Use at least ${plural(min, "character")}.`;
    }
    case "string_too_long": {
      const max = ctxNumber(item, "max_length");
      return max === null ? "This is too long; shorten it." : `Use at most ${plural(max, "character")}.`;
    }
    case "too_long": {
      const max = ctxNumber(item, "max_length");
      return max === null ? "There are too many of these." : `Use at most ${plural(max, "item")}.`;
    }
    case "date_parsing":
    case "date_from_datetime_parsing":
    case "date_type":
      return "Enter a date like 2030-05-20.";
    case "time_parsing":
    case "time_type":
      return "Enter a time like 14:30.";
    case "enum":
    case "literal_error": {
      const ctx = item.ctx && typeof item.ctx === "object" ? (item.ctx as Record<string, unknown>) : {};
      const expected = typeof ctx.expected === "string" ? ctx.expected.replaceAll("'", "") : "";
      return expected ? `Choose one of: ${expected}.` : "Choose one of the options.";
    }
    case "int_parsing":
    case "int_type":
    case "greater_than_equal":
    case "less_than_equal":
      return "Enter a whole number in the allowed range.";
    case "string_type":
      return "Enter text here.";
    case "extra_forbidden":
      return "This field is not accepted.";
    default:
      // Our own validators (weak_password, value_error, …) already write a sentence for people.
      return msg ? cleanMessage(msg) : "Check this value.";
  }
}

/** A 422 body's `detail[]` as `{field: message}`: the first problem of each field, in plain words. */
export function fieldErrors(body: unknown): FieldErrors {
  const detail = body && typeof body === "object" ? (body as { detail?: unknown }).detail : undefined;
  const errors: FieldErrors = {};
  if (!Array.isArray(detail)) return errors;
  for (const item of detail as ValidationItem[]) {
    const field = fieldOf(item) ?? "";
    if (!(field in errors)) errors[field] = plainFieldMessage(item);
  }
  return errors;
}

function describeValidation(items: ValidationItem[]): string {
  const lines = items.slice(0, 3).map((item) => {
    const field = fieldOf(item);
    const label = field ? (FIELD_NAMES[field] ?? field.replaceAll("_", " ")) : "";
    const msg = plainFieldMessage(item);
    return label ? `${label}: ${msg.charAt(0).toLowerCase()}${msg.slice(1)}` : msg;
  });
  return lines.join(" ") || "Some of the values are not valid.";
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

/** Statuses that mean "the app cannot be reached" (the proxy's 502, an overloaded or timed-out
 * backend) rather than "this request was wrong"; 0 is a failed fetch. */
export function isConnectionStatus(status: number): boolean {
  return status === 0 || status === 502 || status === 503 || status === 504;
}

/** Client-side check before sending: the same plain words the backend's 422 would map to. */
export function emailProblem(email: string): string | null {
  const text = email.trim();
  if (!text) return "Enter an email address.";
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(text) ? null : "Enter an email address like name@example.com.";
}
