// Unit tests of the pure helpers (compiled by `npm run test:unit` into .unit-build/).
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { test } from "node:test";

const require = createRequire(import.meta.url);
const { describeError, NETWORK_ERROR } = require("../../.unit-build/lib/errors.js");
const { changesTasks, describeAction, describeDue, toolLabel, todayIso, withDueTime } = require("../../.unit-build/lib/format.js");
const { tokenMaxAge } = require("../../.unit-build/lib/session.js");
const { contentSecurityPolicy } = require("../../.unit-build/proxy.js");

test("validation errors name the field in words", () => {
  const body = {
    detail: [
      { loc: ["body", "password"], msg: "String should have at least 8 characters", type: "string_too_short" },
      { loc: ["body", "due_date"], msg: "Input should be a valid date", type: "date_parsing" },
    ],
  };
  assert.equal(
    describeError(422, body),
    "Password: use at least 8 characters. Due date: enter a date like 2030-05-20.",
  );
});

test("backend detail strings are shown as they are", () => {
  assert.equal(describeError(409, { detail: "An account with this email already exists" }), "An account with this email already exists");
  assert.equal(describeError(401, { detail: "Incorrect email or password" }), "Incorrect email or password");
});

test("statuses without a detail get a plain sentence, never a code", () => {
  for (const status of [400, 401, 403, 404, 409, 413, 500, 502, 503, 504]) {
    const message = describeError(status, undefined);
    assert.doesNotMatch(message, /\d{3}/, `status ${status}: ${message}`);
    assert.ok(message.length > 10);
  }
  assert.match(describeError(401, { detail: "Not authenticated" }), /sign in again/);
  assert.match(NETWORK_ERROR, /connection/);
});

test("rate limits say how long to wait", () => {
  assert.equal(describeError(429, { detail: "Too many requests" }, "42"), "Too many attempts. Please wait 42 seconds and try again.");
  assert.match(describeError(429, {}, null), /wait a moment/);
});

test("due dates read naturally and flag overdue ones", () => {
  const now = new Date(2026, 10, 25, 15, 0); // 25 Nov 2026
  assert.deepEqual(describeDue("2026-11-25", now), { text: "Today", overdue: false, soon: true });
  assert.deepEqual(describeDue("2026-11-26", now), { text: "Tomorrow", overdue: false, soon: true });
  assert.deepEqual(describeDue("2026-11-24", now), { text: "Yesterday", overdue: true, soon: false });
  assert.match(describeDue("2026-12-03", now).text, /^Thu,? 3 Dec$/);
  assert.match(describeDue("2027-01-05", now).text, /^Tue,? 5 Jan 2027$/);
  assert.equal(todayIso(now), "2026-11-25");
});

test("a due time follows the day as the chat writes it", () => {
  assert.equal(withDueTime("Fri 4 Dec", "15:00"), "Fri 4 Dec, 15:00");
  assert.equal(withDueTime("Today", "09:05:00"), "Today, 09:05");
  assert.equal(withDueTime("Tomorrow", null), "Tomorrow");
});

test("chat actions are described without repeating their label", () => {
  assert.equal(toolLabel("add_task"), "Added");
  assert.equal(toolLabel("something_new"), "Something new");
  const add = { tool: "add_task", arguments: { title: "buy milk" }, result: "Added #2 buy milk (due Thu 2026-11-26).", ok: true };
  assert.equal(describeAction(add), "#2 buy milk (due Thu 2026-11-26).");
  const json = { tool: "complete_task", arguments: { task: "milk" }, result: JSON.stringify({ ok: true, message: "Marked 'milk' (#2) as done." }), ok: true };
  assert.equal(describeAction(json), "Marked 'milk' (#2) as done.");
  const bare = { tool: "delete_task", arguments: { task: "milk" }, result: "", ok: true };
  assert.equal(describeAction(bare), "“milk”");
});

test("only actions that change tasks refresh the board", () => {
  assert.equal(changesTasks([]), false);
  assert.equal(changesTasks([{ tool: "list_tasks", arguments: {}, result: "", ok: true }]), false);
  assert.equal(changesTasks([{ tool: "add_task", arguments: {}, result: "", ok: false }]), false);
  assert.equal(changesTasks([{ tool: "add_task", arguments: {}, result: "", ok: true }]), true);
});

test("the session cookie lives as long as the token", () => {
  const payload = Buffer.from(JSON.stringify({ sub: "1", exp: 1_000_600 })).toString("base64url");
  assert.equal(tokenMaxAge(`h.${payload}.s`, 1_000_000), 600);
  assert.equal(tokenMaxAge(`h.${payload}.s`, 2_000_000), 0);
  assert.equal(tokenMaxAge("not-a-jwt"), 86_400);
});

test("the page CSP forbids framing and inline scripts without the nonce", () => {
  const csp = contentSecurityPolicy("abc", false);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.match(csp, /script-src 'self' 'nonce-abc' 'strict-dynamic'(;|$)/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.match(contentSecurityPolicy("abc", true), /'unsafe-eval'/);
});
