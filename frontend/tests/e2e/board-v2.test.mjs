// Board v2 in a real browser (issue #19 item 6): quick add through the backend's parser, the Today and
// Overdue views, completed tasks grouped, clear completed with undo, undo that restores the same
// task, state in the URL, and one request per refresh. Tasks are seeded straight on the backend.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { after, before, describe, test } from "node:test";

import {
  IN_CI,
  launchBrowser,
  localDate,
  makeWorkDir,
  missingPrerequisite,
  removeWorkDir,
  restClient,
  screenshotAll,
  screenshotPath,
  signInPage,
  signUpViaApi,
  startBackend,
  startFrontend,
} from "./harness.mjs";

const missing = missingPrerequisite();
if (missing && IN_CI) test("prerequisites for the board tests", () => assert.fail(`CI=true but ${missing}`));

const AXE_PATH = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
const user = { email: `board-${Date.now().toString(36)}@example.com`, password: "correct horse battery" };

describe("board v2 in a real browser", { skip: missing && !IN_CI ? missing : false, concurrency: 1 }, () => {
  let workDir;
  let backend;
  let frontend;
  let browser;
  let page;
  let rest;
  const pageErrors = [];

  before(async () => {
    workDir = makeWorkDir();
    backend = await startBackend(workDir);
    frontend = await startFrontend(workDir, backend.url);
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on("pageerror", (error) => pageErrors.push(String(error)));
    rest = restClient(backend.url, await signUpViaApi(backend.url, user));
    await signInPage(page, frontend.url, user);
  });

  after(async () => {
    await browser?.close();
    await frontend?.stop();
    await backend?.stop();
    if (workDir) removeWorkDir(workDir);
  });

  function step(name, fn) {
    test(name, { timeout: 90_000 }, async () => {
      try {
        await fn();
      } catch (error) {
        await screenshotAll(browser, name);
        throw error;
      }
    });
  }

  const taskItem = (title) => page.getByTestId("task").filter({ has: page.getByTestId("task-title").getByText(title, { exact: true }) });
  const viewButton = (name) => page.getByRole("group", { name: "View" }).getByRole("button", { name: new RegExp(`^${name}`) });
  const statusButton = (name) => page.getByRole("group", { name: "Status" }).getByRole("button", { name: new RegExp(`^${name}`) });
  /** Wait until the board shows exactly these titles (in any order). */
  const waitForTitles = (titles) =>
    page.waitForFunction(
      (expected) => {
        const seen = [...document.querySelectorAll("[data-testid=task-title]")].map((e) => e.textContent.trim()).sort();
        return JSON.stringify(seen) === JSON.stringify([...expected].sort());
      },
      titles,
    );
  async function apiTasks(query = "") {
    const answer = await rest.get(`/api/tasks?limit=200&today=${localDate(0)}${query}`);
    assert.equal(answer.status, 200);
    return answer.body;
  }

  step("quick add understands “buy bread tomorrow 5pm !high #shop”", async () => {
    const quick = page.getByLabel("Quick add");
    await quick.fill("buy bread tomorrow 5pm !high #shop");
    await quick.press("Enter");
    const item = page.getByTestId("task").filter({ has: page.getByTestId("task-title").getByText(/^buy bread$/i) });
    await item.waitFor();
    const text = await item.innerText();
    assert.match(text, /High priority/);
    assert.match(text, /Due Tomorrow, 17:00/);
    assert.match(text, /#shop/);
    // What was understood is shown on the new item itself.
    const understood = await item.getByTestId("understood").innerText();
    for (const chip of ["Due Tomorrow, 17:00", "High priority", "#shop"]) assert.ok(understood.includes(chip), understood);
    assert.equal(await quick.inputValue(), "", "the box is ready for the next task");

    const saved = (await apiTasks()).items.find((t) => /^buy bread$/i.test(t.title));
    assert.ok(saved, "created on the backend");
    assert.deepEqual(
      { due_date: saved.due_date, due_time: saved.due_time?.slice(0, 5), priority: saved.priority, tags: saved.tags },
      { due_date: localDate(1), due_time: "17:00", priority: "high", tags: ["shop"] },
    );
    await page.screenshot({ path: screenshotPath("board-v2-quick-add") });
  });

  step("Today and Overdue views show what the API says, with counts from the same page", async () => {
    const seed = [
      { title: "pay rent", due_date: localDate(0) },
      { title: "file taxes", due_date: localDate(-3), priority: "high" },
      { title: "renew passport", due_date: localDate(-1), completed: true },
      { title: "plan trip", due_date: localDate(10) },
      { title: "read a book" },
    ];
    for (const task of seed) assert.equal((await rest.post("/api/tasks", task)).status, 201);
    // The live board picks them up without a reload.
    await taskItem("read a book").waitFor({ timeout: 5000 });

    const { counts } = await apiTasks();
    assert.ok(counts.today >= 1 && counts.overdue >= 1, JSON.stringify(counts));
    await viewButton("Today").filter({ hasText: String(counts.today) }).waitFor();
    await viewButton("Overdue").filter({ hasText: String(counts.overdue) }).waitFor();
    await viewButton("All tasks").filter({ hasText: String(counts.all) }).waitFor();

    await viewButton("Today").click();
    const today = (await apiTasks("&due=today")).items.map((t) => t.title);
    assert.ok(today.includes("pay rent") && !today.includes("file taxes"), today.join(", "));
    await waitForTitles(today);
    assert.equal(await viewButton("Today").getAttribute("aria-pressed"), "true");

    await viewButton("Overdue").click();
    const overdue = (await apiTasks("&due=overdue")).items.map((t) => t.title);
    assert.ok(overdue.includes("file taxes") && !overdue.includes("pay rent") && !overdue.includes("plan trip"), overdue.join(", "));
    await waitForTitles(overdue);
    await page.getByTestId("task").filter({ hasText: "Overdue" }).first().waitFor();
    await page.screenshot({ path: screenshotPath("board-v2-overdue") });

    await viewButton("All tasks").click();
    await waitForTitles(["buy bread", "pay rent", "file taxes", "renew passport", "plan trip", "read a book"]);
  });

  step("completed tasks are grouped below the open ones", async () => {
    await page.getByRole("checkbox", { name: "Mark “buy bread” as done" }).check();
    await page.getByRole("heading", { name: "Completed (2)" }).waitFor();
    const completedList = page.getByRole("list", { name: "Completed tasks" });
    await completedList.getByText("buy bread", { exact: true }).waitFor();
    assert.deepEqual((await completedList.getByTestId("task-title").allInnerTexts()).sort(), ["buy bread", "renew passport"]);
    const openTitles = await page.getByRole("list", { name: "Open tasks" }).getByTestId("task-title").allInnerTexts();
    assert.equal(openTitles.length, 4);
    // The open list comes first in the page, the completed heading and list after it.
    const order = await page.evaluate(() => {
      const open = document.querySelector("ul[aria-label='Open tasks']");
      const done = document.querySelector("ul[aria-label='Completed tasks']");
      return Boolean(open.compareDocumentPosition(done) & Node.DOCUMENT_POSITION_FOLLOWING);
    });
    assert.equal(order, true);
    await statusButton("Open").click();
    await waitForTitles(openTitles);
    assert.equal(await page.getByRole("heading", { name: /^Completed \(/ }).count(), 0);
    await statusButton("All").click();
    await page.getByRole("heading", { name: "Completed (2)" }).waitFor();
    await page.screenshot({ path: screenshotPath("board-v2-completed") });
  });

  step("clear completed, then undo brings back the same tasks (ids and creation times)", async () => {
    const before = (await apiTasks("&status=completed")).items.map(({ id, title, created_at, completed }) => ({ id, title, created_at, completed }));
    assert.equal(before.length, 2);
    await page.getByRole("button", { name: "Clear completed (2)" }).click();
    const toast = page.getByRole("status").filter({ hasText: "Cleared 2 completed tasks." });
    await toast.waitFor();
    await taskItem("renew passport").waitFor({ state: "detached" });
    assert.equal((await apiTasks("&status=completed")).total, 0);

    await toast.getByRole("button", { name: "Undo" }).click();
    await page.getByRole("heading", { name: "Completed (2)" }).waitFor();
    const after = (await apiTasks("&status=completed")).items.map(({ id, title, created_at, completed }) => ({ id, title, created_at, completed }));
    const byId = (list) => [...list].sort((a, b) => a.id - b.id);
    assert.deepEqual(byId(after), byId(before));
    for (const { id } of before) await page.locator(`[data-testid=task][data-task-id="${id}"]`).waitFor();
  });

  step("undo after a delete restores the task with its id and creation time", async () => {
    const original = (await apiTasks()).items.find((t) => t.title === "plan trip");
    await page.getByRole("button", { name: "Delete “plan trip”" }).click();
    await taskItem("plan trip").waitFor({ state: "detached" });
    assert.equal((await rest.get(`/api/tasks/${original.id}`)).status, 404);
    await page.getByRole("status").filter({ hasText: "Deleted “plan trip”." }).getByRole("button", { name: "Undo" }).click();
    await taskItem("plan trip").waitFor();
    assert.equal(await taskItem("plan trip").getAttribute("data-task-id"), String(original.id));
    const restored = (await rest.get(`/api/tasks/${original.id}`)).body;
    assert.deepEqual(
      { id: restored.id, created_at: restored.created_at, due_date: restored.due_date },
      { id: original.id, created_at: original.created_at, due_date: original.due_date },
    );
  });

  step("view, filter, sort and search live in the URL: reload keeps them, back and forward move through them", async () => {
    // After a history move React renders a moment later: wait for the controls, do not just read them.
    const pressed = (button) => button.and(page.locator("[aria-pressed=true]")).waitFor();
    // Like the browser's buttons: some of these moves load the page again (entries from before the
    // reload), so wait for the URL and the controls rather than for one navigation event.
    const back = () => page.evaluate(() => history.back());
    const forward = () => page.evaluate(() => history.forward());
    const hasValue = (selector, value) =>
      page.waitForFunction(([s, v]) => document.querySelector(s)?.value === v, [selector, value]);

    await viewButton("Today").click();
    await page.waitForURL(/\?view=today$/);
    await statusButton("Open").click();
    await page.waitForURL(/\?view=today&status=open$/);
    await page.getByLabel("Sort by").selectOption("due-asc");
    await page.waitForURL(/sort=due-asc/);
    await page.getByLabel("Search").fill("rent");
    await page.waitForURL(/q=rent/);
    await waitForTitles(["pay rent"]);

    await page.reload();
    await waitForTitles(["pay rent"]);
    await pressed(viewButton("Today"));
    await pressed(statusButton("Open"));
    await hasValue("#sort", "due-asc");
    await hasValue("#search", "rent");

    // Typing a search replaced its entry instead of adding one per key: back goes to "Open".
    await back();
    await page.waitForURL(/\?view=today&status=open$/);
    await hasValue("#search", "");
    await hasValue("#sort", "created-desc");
    await waitForTitles((await apiTasks("&due=today&status=pending")).items.map((t) => t.title));
    await back();
    await page.waitForURL(/\?view=today$/);
    await pressed(statusButton("All"));
    await forward();
    await page.waitForURL(/\?view=today&status=open$/);
    await pressed(statusButton("Open"));
    await forward();
    await page.waitForURL(/q=rent/);
    await hasValue("#search", "rent");
    await waitForTitles(["pay rent"]);

    await page.goto(frontend.url);
    await pressed(viewButton("All tasks"));
  });

  step("quick add into a view that leaves the task out says where it went", async () => {
    await page.goto(`${frontend.url}/?view=overdue`);
    await waitForTitles((await apiTasks("&due=overdue")).items.map((t) => t.title));
    await page.getByLabel("Quick add").fill("call mom next friday 9am");
    await page.getByLabel("Quick add").press("Enter");
    const note = page.getByTestId("added-out-of-view");
    await note.filter({ hasText: "not in this view" }).waitFor();
    assert.match(await note.innerText(), /call mom/i);
    await note.getByRole("button", { name: "Show all tasks" }).click();
    await page.waitForURL((url) => url.search === "");
    const item = page.getByTestId("task").filter({ has: page.getByTestId("task-title").getByText(/^call mom$/i) });
    await item.getByTestId("understood").filter({ hasText: /Due .*09:00/ }).waitFor();
    // Nothing typed: the box says what to do, tied to the field.
    await page.getByLabel("Quick add").fill("   ");
    await page.getByLabel("Quick add").press("Enter");
    await page.getByText("Type a task first").waitFor();
    assert.equal(await page.getByLabel("Quick add").getAttribute("aria-invalid"), "true");
    assert.equal(await page.getByLabel("Quick add").getAttribute("aria-describedby"), "quick-add-hint quick-add-error");
  });

  step("no accessibility violations on the v2 board: views, groups, quick add with an error (axe-core)", async () => {
    const audit = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true, storageState: await page.context().storageState() });
    try {
      const p = await audit.newPage();
      p.setDefaultTimeout(15_000);
      await p.goto(frontend.url);
      await p.getByRole("heading", { name: /^Completed \(/ }).waitFor();
      await p.getByLabel("Quick add").press("Enter");
      await p.getByText("Type a task first").waitFor();
      await p.addScriptTag({ path: AXE_PATH });
      const violations = await p.evaluate(async () => {
        // The board's own part of the page; the page frame (headings, landmarks) is checked in app.test.
        const r = await axe.run("#main", { resultTypes: ["violations"] });
        return r.violations.map((v) => `${v.id} (${v.impact}): ${v.help} (${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")})`);
      });
      assert.deepEqual(violations, []);
    } finally {
      await audit.close();
    }
  });

  step("one refresh is one GET /api/tasks (counts included); the next polls are answered 304", async () => {
    const requests = [];
    const onRequest = (request) => {
      const url = new URL(request.url());
      if (url.pathname === "/api/tasks" && request.method() === "GET") requests.push({ request, at: Date.now() });
    };
    page.on("request", onRequest);
    try {
      await page.reload();
      await taskItem("pay rent").waitFor();
      await page.waitForTimeout(1500); // still before the first poll (every 3 s)
      assert.equal(requests.length, 1, requests.map((r) => r.request.url()).join("\n"));
      assert.equal(requests[0].request.headers()["if-none-match"], undefined, "the first load is unconditional");

      // Nothing changed: the polls that follow are conditional and cost a 304 without a body.
      await page.waitForTimeout(3500);
      const polls = requests.slice(1);
      assert.ok(polls.length >= 1, "the board polls");
      const poll = polls[0].request;
      assert.ok(poll.headers()["if-none-match"], "the poll sends the ETag it got");
      const answer = await poll.response();
      assert.equal(answer.status(), 304);
    } finally {
      page.off("request", onRequest);
    }
  });

  step("on a phone the quick-add bar and the list come first; the detailed form opens on demand", async () => {
    const phone = await browser.newContext({
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
      storageState: await page.context().storageState(),
    });
    try {
      const p = await phone.newPage();
      p.setDefaultTimeout(15_000);
      await p.goto(frontend.url);
      await p.getByTestId("task").first().waitFor();
      assert.equal(await p.getByLabel("Quick add").isVisible(), true);
      const form = p.getByRole("region", { name: "Add a task" });
      assert.equal(await form.getByLabel("Title").isVisible(), false, "the detailed form starts closed");
      const toggle = p.getByRole("button", { name: /Add with details/ });
      assert.equal(await toggle.getAttribute("aria-expanded"), "false");
      await toggle.click();
      await form.getByLabel("Title").waitFor();
      assert.equal(await p.getByRole("button", { name: /Hide the detailed form/ }).getAttribute("aria-expanded"), "true");
      const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `no horizontal scrolling (overflow ${overflow}px)`);
      // Every control of the board is a 44 px touch target (a checkbox counts with its label).
      const small = await p.evaluate(() =>
        [...document.querySelectorAll("#main button, #main input, #main select, #main textarea, #main a[href]")]
          .filter((el) => el.getBoundingClientRect().width > 0 && !el.closest(".visually-hidden"))
          .map((el) => ({ el, box: (el.type === "checkbox" && el.closest("label") ? el.closest("label") : el).getBoundingClientRect() }))
          .filter(({ box }) => box.width < 43.5 || box.height < 43.5)
          .map(({ el, box }) => `${el.tagName} "${(el.getAttribute("aria-label") || el.textContent || el.id).trim().slice(0, 30)}" ${Math.round(box.width)}x${Math.round(box.height)}`),
      );
      assert.deepEqual(small, []);
      await p.screenshot({ path: screenshotPath("board-v2-phone") });
    } finally {
      await phone.close();
    }
  });

  step("no script errors on the page", () => {
    assert.deepEqual(pageErrors, []);
  });
});
