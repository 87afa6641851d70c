// Browser tests of the whole app: real backend, built frontend, Debian's Chromium.
// Run with `make test-e2e` (or `npm run test:e2e` after `npm run build`). Screenshots of the main
// screens, and of every failure, go to artifacts/e2e/.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { after, before, describe, test } from "node:test";

import {
  IN_CI,
  freePort,
  launchBrowser,
  makeWorkDir,
  missingPrerequisite,
  removeWorkDir,
  resetArtifacts,
  screenshotPath,
  startBackend,
  startFrontend,
  screenshotAll,
} from "./harness.mjs";

const missing = missingPrerequisite();
if (missing && IN_CI) {
  // With CI=true a missing tool is a failure, never a skip.
  test("prerequisites for the browser tests", () => assert.fail(`CI=true but ${missing}`));
}

const AXE_PATH = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
const PASSWORD = "correct horse battery";
const unique = Date.now().toString(36);
const alice = { name: "Alice Example", email: `alice-${unique}@example.com` };
const bob = { name: "Bob Example", email: `bob-${unique}@example.com` };

describe("todo app in a real browser", { skip: missing && !IN_CI ? missing : false, concurrency: 1 }, () => {
  let workDir;
  let backend;
  let frontend;
  let browser;
  let context;
  let page;
  const cspViolations = [];
  const pageErrors = [];

  before(async () => {
    resetArtifacts();
    workDir = makeWorkDir();
    backend = await startBackend(workDir);
    frontend = await startFrontend(workDir, backend.url);
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on("console", (message) => {
      if (/Content[- ]Security[- ]Policy/i.test(message.text())) cspViolations.push(message.text());
    });
    page.on("pageerror", (error) => pageErrors.push(String(error)));
  });

  after(async () => {
    await browser?.close();
    await frontend?.stop();
    await backend?.stop();
    if (workDir) removeWorkDir(workDir);
  });

  /** A test that saves a screenshot of every open page when it fails. */
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

  const board = () => page.getByRole("region", { name: "Add a task" });
  const taskList = () => page.getByRole("region", { name: "Your tasks" });
  const statusButton = (name) => page.getByRole("group", { name: "Status" }).getByRole("button", { name: new RegExp(`^${name}`) });
  const taskItem = (title) => page.getByTestId("task").filter({ has: page.getByText(title, { exact: true }) });

  async function signUp(p, user, screenshot = null) {
    await p.goto(`${frontend.url}/signup`);
    await p.getByLabel("Name (optional)").fill(user.name);
    await p.getByLabel("Email").fill(user.email);
    await p.getByLabel("Password").fill(PASSWORD);
    if (screenshot) await p.screenshot({ path: screenshotPath(screenshot) });
    await p.getByRole("button", { name: "Create account" }).click();
    await p.getByRole("heading", { name: "Your tasks" }).waitFor();
  }

  step("/health answers without calling the backend, with security headers on pages", async () => {
    const health = await fetch(`${frontend.url}/health`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: "healthy", version: process.env.APP_VERSION || "dev" });

    const signin = await fetch(`${frontend.url}/signin`);
    assert.equal(signin.status, 200);
    const csp = signin.headers.get("content-security-policy") ?? "";
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /script-src 'self' 'nonce-[^']+'/);
    assert.equal(signin.headers.get("x-content-type-options"), "nosniff");
    assert.ok(signin.headers.get("referrer-policy"));
  });

  step("signed-out visitors land on the sign-in page", async () => {
    await page.goto(frontend.url);
    await page.waitForURL(/\/signin$/);
    await page.getByRole("heading", { name: "Welcome back" }).waitFor();
    await page.screenshot({ path: screenshotPath("signin") });

    // A wrong password is explained in words, not a status code.
    await page.getByLabel("Email").fill("nobody@example.com");
    await page.getByLabel("Password").fill("wrong-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    const alert = page.getByRole("alert");
    await alert.waitFor();
    assert.doesNotMatch(await alert.innerText(), /\b(401|undefined|null)\b/);
  });

  step("sign up keeps the token in an httpOnly cookie, never in page storage", async () => {
    await signUp(page, alice, "signup");
    assert.equal(new URL(page.url()).pathname, "/");
    await page.getByText("No tasks yet").waitFor();
    const cookies = await context.cookies(frontend.url);
    const session = cookies.find((c) => c.name === "todo_session");
    assert.ok(session, "session cookie set");
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, "Lax");
    const seenByScripts = await page.evaluate(() => ({
      cookie: document.cookie,
      local: window.localStorage.length,
      session: window.sessionStorage.length,
    }));
    assert.deepEqual(seenByScripts, { cookie: "", local: 0, session: 0 });
  });

  step("add a task with title, description, priority, due date and time", async () => {
    const form = board();
    await form.getByLabel("Title").fill("Buy oat milk");
    await form.getByLabel("Description").fill("Two cartons, barista edition");
    await form.getByLabel("Priority").selectOption("high");
    await form.getByLabel("Due date").fill("2031-05-20");
    await form.getByLabel("Time").fill("15:30");
    await form.getByRole("button", { name: "Add task" }).click();
    const item = taskItem("Buy oat milk");
    await item.waitFor();
    assert.match(await item.innerText(), /Two cartons, barista edition/);
    assert.match(await item.innerText(), /High priority/);
    assert.match(await item.innerText(), /Due .*20 May 2031, 15:30/);
    await page.getByTestId("counts").filter({ hasText: "1 open · 0 done" }).waitFor();
    // The form is ready for the next task.
    assert.equal(await form.getByLabel("Title").inputValue(), "");
    // Empty titles are refused with a message tied to the field.
    await form.getByRole("button", { name: "Add task" }).click();
    await form.getByText("Enter a title").waitFor();
    assert.equal(await form.getByLabel("Title").getAttribute("aria-invalid"), "true");
  });

  step("edit a task inline", async () => {
    await page.getByRole("button", { name: "Edit “Buy oat milk”" }).click();
    const editor = page.getByRole("form", { name: "Edit “Buy oat milk”" });
    await editor.getByLabel("Title").fill("Buy oat milk and bread");
    await editor.getByLabel("Priority").selectOption("low");
    await editor.getByRole("button", { name: "Save" }).click();
    const item = taskItem("Buy oat milk and bread");
    await item.waitFor();
    assert.match(await item.innerText(), /Low priority/);
    // Escape cancels an edit without saving.
    await page.getByRole("button", { name: "Edit “Buy oat milk and bread”" }).click();
    await page.getByRole("form", { name: "Edit “Buy oat milk and bread”" }).getByLabel("Title").fill("Not saved");
    await page.keyboard.press("Escape");
    await taskItem("Buy oat milk and bread").waitFor();
    assert.equal(await page.getByText("Not saved").count(), 0);
  });

  step("complete and reopen a task; filters and counts follow", async () => {
    await page.getByRole("checkbox", { name: "Mark “Buy oat milk and bread” as done" }).check();
    await page.getByTestId("counts").filter({ hasText: "0 open · 1 done" }).waitFor();
    await statusButton("Open").click();
    await page.getByText("No tasks match").waitFor();
    await statusButton("Completed").click();
    await taskItem("Buy oat milk and bread").waitFor();
    await page.getByRole("checkbox", { name: "Reopen “Buy oat milk and bread”" }).uncheck();
    await page.getByText("No tasks match").waitFor();
    await statusButton("All").click();
    await page.getByTestId("counts").filter({ hasText: "1 open · 0 done" }).waitFor();
  });

  step("search and sort the board", async () => {
    const form = board();
    await form.getByLabel("Title").fill("Call the dentist");
    await form.getByLabel("Priority").selectOption("high");
    await form.getByRole("button", { name: "Add task" }).click();
    await taskItem("Call the dentist").waitFor();

    await page.getByLabel("Search").fill("dentist");
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=task]").length === 1);
    await taskItem("Call the dentist").waitFor();
    await page.getByLabel("Search").fill("");
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=task]").length === 2);

    await page.getByLabel("Sort by").selectOption("title-asc");
    await page.waitForFunction(() => document.querySelector("[data-testid=task]")?.textContent?.includes("Buy oat milk"));
    await page.getByLabel("Sort by").selectOption("priority-desc");
    await page.waitForFunction(() => document.querySelector("[data-testid=task]")?.textContent?.includes("Call the dentist"));
  });

  step("delete a task, undo it, delete it again", async () => {
    await page.getByRole("button", { name: "Delete “Call the dentist”" }).click();
    await taskItem("Call the dentist").waitFor({ state: "detached" });
    await page.getByRole("button", { name: "Undo" }).click();
    await taskItem("Call the dentist").waitFor();
    await page.getByRole("button", { name: "Delete “Call the dentist”" }).click();
    await taskItem("Call the dentist").waitFor({ state: "detached" });
    await page.getByTestId("counts").filter({ hasText: "1 open · 0 done" }).waitFor();
    await page.screenshot({ path: screenshotPath("board") });
  });

  step("the chat assistant adds a task and the board shows it", async () => {
    const chat = page.getByRole("region", { name: "Assistant" });
    const input = chat.getByLabel("Message the assistant");
    await input.fill("Add water the plants tomorrow");
    await input.press("Enter");
    const reply = chat.getByTestId("chat-assistant").last();
    await reply.waitFor({ timeout: 30_000 });
    await chat.getByRole("list", { name: "Actions taken", includeHidden: true }).first().waitFor({ state: "attached" }); // collapsed in a <details> by default
    await taskList().getByText(/water the plants/i).waitFor();
    assert.equal(await input.inputValue(), "", "the input is cleared after sending");
    await page.screenshot({ path: screenshotPath("chat") });
  });

  step("past conversations stay reachable after a reload", async () => {
    await page.reload();
    const chat = page.getByRole("region", { name: "Assistant" });
    await chat.getByTestId("chat-user").filter({ hasText: "Add water the plants tomorrow" }).waitFor();
    await chat.getByRole("button", { name: "New chat" }).click();
    await chat.getByText("Manage tasks by chatting").waitFor();
    const picker = chat.getByLabel("Conversation", { exact: true });
    const options = await picker.locator("option").allInnerTexts();
    assert.ok(options.length >= 2, `a past conversation is listed: ${options.join(" | ")}`);
    const value = await picker.locator("option").nth(1).getAttribute("value");
    await picker.selectOption(value);
    await chat.getByTestId("chat-user").filter({ hasText: "Add water the plants tomorrow" }).waitFor();
  });

  step("the board works at phone width", async () => {
    const phone = await browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      storageState: await context.storageState(),
    });
    try {
      const p = await phone.newPage();
      p.setDefaultTimeout(15_000);
      await p.goto(frontend.url);
      await p.getByRole("heading", { name: "Your tasks" }).waitFor();
      await p.getByText("Buy oat milk and bread", { exact: true }).waitFor();
      const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `no horizontal scrolling at phone width (overflow ${overflow}px)`);
      await p.screenshot({ path: screenshotPath("phone") });
      await p.getByRole("button", { name: "Assistant" }).click();
      await p.getByLabel("Message the assistant").waitFor();
      await p.screenshot({ path: screenshotPath("phone-chat") });
    } finally {
      await phone.close();
    }
  });

  step("sign out ends the session", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(/\/signin$/);
    const cookies = await context.cookies(frontend.url);
    assert.equal(cookies.find((c) => c.name === "todo_session"), undefined);
    await page.goto(frontend.url);
    await page.waitForURL(/\/signin$/);
    const api = await page.evaluate(async () => (await fetch("/api/tasks")).status);
    assert.equal(api, 401);
  });

  step("sign in again, and a second user sees none of the first user's tasks", async () => {
    await page.getByLabel("Email").fill(alice.email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await taskItem("Buy oat milk and bread").waitFor();
    const aliceTaskId = await taskItem("Buy oat milk and bread").getAttribute("data-task-id");

    const other = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    try {
      const p = await other.newPage();
      p.setDefaultTimeout(15_000);
      // Signing up with a taken email is explained, and short passwords are caught before sending.
      await p.goto(`${frontend.url}/signup`);
      await p.getByLabel("Email").fill(alice.email);
      await p.getByLabel("Password").fill("short");
      await p.getByRole("button", { name: "Create account" }).click();
      await p.getByRole("alert").filter({ hasText: "at least 8 characters" }).waitFor();
      await p.getByLabel("Password").fill(PASSWORD);
      await p.getByRole("button", { name: "Create account" }).click();
      await p.getByRole("alert").filter({ hasText: "already exists" }).waitFor();
      await signUp(p, bob);
      await p.getByText("No tasks yet").waitFor();
      const seen = await p.evaluate(async (id) => {
        const list = await (await fetch("/api/tasks")).json();
        const one = await fetch(`/api/tasks/${id}`);
        const conversations = await (await fetch("/api/conversations")).json();
        return { total: list.total, single: one.status, conversations: conversations.length };
      }, aliceTaskId);
      assert.deepEqual(seen, { total: 0, single: 404, conversations: 0 });
    } finally {
      await other.close();
    }
  });

  step("no serious accessibility problems on the sign-in page and the board (axe-core)", async () => {
    // A separate context that may inject axe's script (the app's CSP rightly forbids that).
    const audit = await browser.newContext({ viewport: { width: 1280, height: 860 }, bypassCSP: true, storageState: await context.storageState() });
    try {
      const p = await audit.newPage();
      p.setDefaultTimeout(15_000);
      const check = async (url, ready) => {
        await p.goto(url);
        await ready(p);
        await p.addScriptTag({ path: AXE_PATH });
        const result = await p.evaluate(async () => {
          const r = await axe.run(document, { resultTypes: ["violations"] });
          return r.violations
            .filter((v) => v.impact === "serious" || v.impact === "critical")
            .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")})`);
        });
        assert.deepEqual(result, [], `${url}: ${result.join("; ")}`);
      };
      await check(frontend.url, (q) => q.getByTestId("task").first().waitFor());
      await check(`${frontend.url}/signup`, async () => {
        // a signed-in visitor is sent to the board: sign this context out first
        await audit.clearCookies();
        await p.goto(`${frontend.url}/signup`);
        await p.getByRole("heading", { name: "Create your account" }).waitFor();
      });
    } catch (error) {
      for (const [i, q] of audit.pages().entries()) await q.screenshot({ path: screenshotPath(`FAILED-axe-${i}`) }).catch(() => {});
      throw error;
    } finally {
      await audit.close();
    }
  });

  step("the main page ran without CSP violations or script errors", async () => {
    assert.deepEqual(cspViolations, []);
    assert.deepEqual(pageErrors, []);
  });

  step("backend down: the proxy answers 502 JSON and the page says so in words", async () => {
    const deadPort = await freePort(); // nothing listens here
    const orphan = await startFrontend(workDir, `http://127.0.0.1:${deadPort}`, "frontend-no-backend");
    try {
      const health = await fetch(`${orphan.url}/health`);
      assert.equal(health.status, 200, "/health does not depend on the backend");
      const proxied = await fetch(`${orphan.url}/api/tasks`);
      assert.equal(proxied.status, 502);
      assert.match(proxied.headers.get("content-type") ?? "", /application\/json/);
      const body = await proxied.json();
      assert.equal(typeof body.detail, "string");
      assert.match(body.detail, /unreachable/i);

      const down = await browser.newContext({ viewport: { width: 1280, height: 860 } });
      try {
        const p = await down.newPage();
        p.setDefaultTimeout(15_000);
        await p.goto(`${orphan.url}/signin`);
        await p.getByLabel("Email").fill(alice.email);
        await p.getByLabel("Password").fill(PASSWORD);
        await p.getByRole("button", { name: "Sign in" }).click();
        await p.getByRole("alert").filter({ hasText: /unreachable right now/ }).waitFor();
        await p.screenshot({ path: screenshotPath("backend-down") });

        // A signed-in user (a still-valid session cookie) sees the board's error state with a retry.
        const session = (await context.cookies(frontend.url)).find((c) => c.name === "todo_session");
        assert.ok(session, "alice is signed in");
        await down.addCookies([{ name: session.name, value: session.value, url: orphan.url, httpOnly: true, sameSite: "Lax" }]);
        await p.goto(orphan.url);
        const boardError = p.getByRole("alert").filter({ hasText: "Couldn’t load your tasks" });
        await boardError.waitFor();
        assert.match(await boardError.innerText(), /unreachable right now/);
        await boardError.getByRole("button", { name: "Try again" }).waitFor();
        await p.screenshot({ path: screenshotPath("board-backend-down") });
      } finally {
        await down.close();
      }
    } finally {
      await orphan.stop();
    }
  });
});
