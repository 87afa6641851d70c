// Unit tests of the plain-words validation messages, the chat's action presentation and the
// reconnect backoff (compiled by `npm run test:unit` into .unit-build/).
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { test } from "node:test";

const require = createRequire(import.meta.url);
const { fieldErrors, plainFieldMessage, emailProblem, isConnectionStatus } = require("../../.unit-build/lib/errors.js");
const { presentActions, isQuestion, taskLine, charCount, describeDue, withDueTime } = require("../../.unit-build/lib/format.js");
const { backoffDelay } = require("../../.unit-build/lib/connection.js");

test("a 422 becomes one plain message per field, never pydantic's text", () => {
  const body = {
    detail: [
      { loc: ["body", "email"], msg: "value is not a valid email address: An email address must have an @-sign.", type: "value_error" },
      { loc: ["body", "password"], msg: "String should have at least 8 characters", type: "string_too_short", ctx: { min_length: 8 } },
      { loc: ["body", "password"], msg: "second problem, ignored", type: "value_error" },
      { loc: ["body", "title"], msg: "String should have at most 200 characters", type: "string_too_long", ctx: { max_length: 200 } },
      { loc: ["body", "due_time"], msg: "Input should be in a valid time format", type: "time_parsing" },
      { loc: ["body", "priority"], msg: "Input should be 'low', 'medium' or 'high'", type: "enum", ctx: { expected: "'low', 'medium' or 'high'" } },
    ],
  };
  assert.deepEqual(fieldErrors(body), {
    email: "Enter an email address like name@example.com.",
    password: "Use at least 8 characters.",
    title: "Use at most 200 characters.",
    due_time: "Enter a time like 14:30.",
    priority: "Choose one of: low, medium or high.",
  });
  for (const message of Object.values(fieldErrors(body))) assert.doesNotMatch(message, /String should|Input should|value is not/);
  assert.deepEqual(fieldErrors({ detail: "Incorrect email or password" }), {});
  assert.deepEqual(fieldErrors(undefined), {});
});

test("the backend's own sentences (password strength, the chat limit) are kept, made readable", () => {
  const weak = { loc: ["body", "password"], msg: "This is one of the most commonly used passwords; choose one that is harder to guess", type: "weak_password" };
  assert.equal(plainFieldMessage(weak), "This is one of the most commonly used passwords; choose one that is harder to guess.");
  const chat = { loc: ["body", "message"], msg: "message: at most 2000 characters", type: "string_too_long" };
  assert.equal(plainFieldMessage(chat), "Use at most 2,000 characters.");
  assert.equal(plainFieldMessage({ loc: ["body", "title"], msg: "Field required", type: "missing" }), "Enter a title.");
  assert.equal(plainFieldMessage({ loc: ["body", "title"], msg: "x", type: "string_too_short", ctx: { min_length: 1 } }), "Enter a title.");
  assert.equal(plainFieldMessage({ loc: ["body", "due_date"], msg: "Value error, due_time needs a due_date", type: "value_error" }), "Due_time needs a due_date.");
});

test("emails are checked before sending, in the same words", () => {
  assert.equal(emailProblem(""), "Enter an email address.");
  assert.equal(emailProblem("alice"), "Enter an email address like name@example.com.");
  assert.equal(emailProblem("alice@example"), "Enter an email address like name@example.com.");
  assert.equal(emailProblem(" alice@example.com "), null);
});

test("only 'cannot reach' statuses count as offline", () => {
  for (const status of [0, 502, 503, 504]) assert.equal(isConnectionStatus(status), true, String(status));
  for (const status of [200, 400, 401, 404, 409, 422, 429, 500]) assert.equal(isConnectionStatus(status), false, String(status));
});

test("reconnect attempts back off 1, 2, 4, 8 s, then every 15 s", () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 20].map(backoffDelay), [1000, 2000, 4000, 8000, 15000, 15000, 15000]);
});

test("the chat counts characters as the backend does (code points of the trimmed text)", () => {
  assert.equal(charCount("  héllo 👋  "), 7);
});

const NOW = new Date(2030, 4, 20, 9, 0); // Mon 20 May 2030
const listing = (tasks, message) => ({ tool: "list_tasks", arguments: {}, ok: true, result: JSON.stringify({ ok: true, message, count: tasks.length, tasks }) });
const task = (id, title, extra = {}) => ({ id, title, description: "", completed: false, priority: "medium", due_date: null, due_time: null, ...extra });

test("a listing the reply already shows is not repeated in the action details", () => {
  const tasks = [task(1, "buy milk"), task(2, "call mom", { priority: "high" })];
  const action = listing(tasks, "2 task(s):\n- #1 buy milk\n- #2 call mom (high priority)");
  assert.deepEqual(presentActions("You have 2 tasks:\n- #1 buy milk\n- #2 call mom (high priority)", [action], NOW), []);
  // A reply that only summarises keeps the listing, one line per task in the board's words.
  const [view] = presentActions("You have 2 pending tasks.", [action], NOW);
  assert.equal(view.kind, "done");
  assert.deepEqual(view.items, ["#1 buy milk", "#2 call mom · High priority"]);
});

test("dates in the action details read as on the board", () => {
  const added = { tool: "add_task", arguments: { title: "dentist" }, ok: true, result: JSON.stringify({ ok: true, message: "Added #7 dentist (due tomorrow, 15:00).", task: task(7, "dentist", { due_date: "2030-05-21", due_time: "15:00" }) }) };
  const [view] = presentActions("Added #7 dentist (due tomorrow, 15:00).", [added], NOW);
  assert.equal(view.label, "Added");
  const board = withDueTime(describeDue("2030-05-21", NOW).text, "15:00");
  assert.equal(view.text, `#7 dentist · Due ${board}`);
  assert.equal(taskLine(task(3, "old", { due_date: "2030-05-01" }), NOW), `#3 old · Overdue · ${describeDue("2030-05-01", NOW).text}`);
});

test("a clarifying question is a question, not 'Could not complete'", () => {
  const ambiguous = {
    tool: "complete_task",
    arguments: { task: "milk" },
    ok: false,
    result: JSON.stringify({ ok: false, message: "Which task do you mean by 'milk'? It could be: #1 buy milk; #4 milk the cow.", error: "ambiguous", candidates: [task(1, "buy milk"), task(4, "milk the cow")] }),
  };
  assert.equal(isQuestion("Which task do you mean by 'milk'? It could be: #1 buy milk; #4 milk the cow.", [ambiguous]), true);
  const [view] = presentActions("Hmm, there are two of those.", [ambiguous], NOW);
  assert.equal(view.kind, "question");
  assert.equal(view.label, "Question");
  assert.doesNotMatch(view.label, /Could not/);
  // The reply asking the same thing: shown once, in the reply.
  assert.deepEqual(presentActions("Which task do you mean by 'milk'? It could be: #1 buy milk; #4 milk the cow.", [ambiguous], NOW), []);
  assert.equal(isQuestion("Did you mean 'buy milk' (#1)? I haven't changed anything — say yes to go ahead."), true);
  assert.equal(isQuestion("Added #1 buy milk."), false);
  // A real failure still says so.
  const missing = { tool: "delete_task", arguments: { task: "xyz" }, ok: false, result: JSON.stringify({ ok: false, message: "I couldn't find a task matching 'xyz'.", error: "not_found" }) };
  assert.equal(presentActions("Nothing matched.", [missing], NOW)[0].label, "Could not delete");
});

test("the local agent's plain-text results: listing once, question as a question, board dates", () => {
  const { boardDates } = require("../../.unit-build/lib/format.js");
  const list = { tool: "list_tasks", arguments: {}, ok: true, result: "2 task(s):\n- #1 buy milk (due tomorrow, 17:00)\n- #2 buy milk powder" };
  assert.deepEqual(presentActions("Your pending tasks (2):\n- #1 buy milk (due tomorrow, 17:00)\n- #2 buy milk powder", [list], NOW), []);
  const [view] = presentActions("You have two.", [list], NOW);
  assert.deepEqual(view.items, ["#1 buy milk · Due Tomorrow, 17:00", "#2 buy milk powder"]);
  const which = "Which task do you mean by 'milk'? It could be: #1 buy milk (due tomorrow, 17:00); #2 buy milk powder.";
  const ambiguous = { tool: "complete_task", arguments: {}, ok: false, result: which };
  assert.equal(isQuestion(which, [ambiguous]), true);
  assert.deepEqual(presentActions(which, [ambiguous], NOW), []);
  const added = { tool: "add_task", arguments: {}, ok: true, result: "Added #1 buy milk (due tomorrow, 17:00)." };
  assert.equal(presentActions("Added #1 buy milk (due tomorrow, 17:00).", [added], NOW)[0].text, "#1 buy milk · Due Tomorrow, 17:00");
  assert.equal(boardDates("#3 pay rent (high priority, due Thu 26 Nov, 15:00, overdue, done)", NOW), "#3 pay rent · High priority · Due Thu 26 Nov, 15:00 · Overdue · Done");
  assert.equal(boardDates("#5 trip (due 2030-06-03)", NOW), `#5 trip · Due ${describeDue("2030-06-03", NOW).text}`);
  assert.equal(boardDates("Deleted 'a (b)'."), "Deleted 'a (b)'.", "other parentheses stay");
});
