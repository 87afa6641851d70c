// Unit tests of the board's URL state and quick-add summary (lib/board-state.ts).
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { test } from "node:test";

const require = createRequire(import.meta.url);
const { DEFAULT_BOARD_STATE, boardSearch, groupByCompletion, parseBoardState, tasksUrl, understoodChips } = require("../../.unit-build/lib/board-state.js");

test("the URL query round-trips the board state, and defaults leave the URL plain", () => {
  const state = { view: "today", status: "open", q: "milk & bread", sort: "due-asc" };
  const search = boardSearch(state);
  assert.equal(search, "?view=today&status=open&q=milk+%26+bread&sort=due-asc");
  assert.deepEqual(parseBoardState(new URLSearchParams(search)), state);
  assert.equal(boardSearch(DEFAULT_BOARD_STATE), "");
  assert.equal(boardSearch({ ...DEFAULT_BOARD_STATE, view: "overdue" }), "?view=overdue");
});

test("unknown values in a hand-edited URL fall back to the defaults", () => {
  const parsed = parseBoardState(new URLSearchParams("view=tomorrow&status=pending&sort=random&q=%20%20x%20"));
  assert.deepEqual(parsed, { ...DEFAULT_BOARD_STATE, q: "x" });
  assert.equal(parseBoardState(new URLSearchParams(`q=${"a".repeat(300)}`)).q.length, 200);
});

test("one API URL carries the view, status, search, sort and the browser's date", () => {
  const url = new URL(tasksUrl({ view: "overdue", status: "open", q: "dentist", sort: "priority-desc" }, "2026-12-04"), "http://x");
  assert.equal(url.pathname, "/api/tasks");
  assert.deepEqual(Object.fromEntries(url.searchParams), {
    status: "pending", // the URL says "open", the API "pending"
    due: "overdue",
    sort: "priority",
    order: "desc",
    limit: "200",
    today: "2026-12-04",
    q: "dentist",
  });
  assert.equal(new URL(tasksUrl(DEFAULT_BOARD_STATE, "2026-12-04"), "http://x").searchParams.has("q"), false);
});

test("completed tasks are grouped after open ones, each keeping the API's order", () => {
  const tasks = [
    { id: 1, completed: false },
    { id: 2, completed: true },
    { id: 3, completed: false },
    { id: 4, completed: true },
  ];
  const { open, completed } = groupByCompletion(tasks);
  assert.deepEqual(open.map((t) => t.id), [1, 3]);
  assert.deepEqual(completed.map((t) => t.id), [2, 4]);
});

test("quick add shows what it understood as chips; medium priority goes without saying", () => {
  const now = new Date(2026, 11, 4, 9, 0);
  assert.deepEqual(understoodChips({ due_date: "2026-12-05", due_time: "17:00", priority: "high", tags: ["shop"] }, now), [
    "Due Tomorrow, 17:00",
    "High priority",
    "#shop",
  ]);
  assert.deepEqual(understoodChips({ due_date: null, due_time: null, priority: "medium", tags: [] }, now), []);
  assert.deepEqual(understoodChips({ due_date: "2026-12-04", due_time: null, priority: "low", tags: ["a", "b"] }, now), ["Due Today", "Low priority", "#a", "#b"]);
});
