// Keyboard and screen readers (issue 19, item 2), and per-field messages (item 3): axe-core finds
// no violations at all on sign-in, sign-up, the board with chat and the phone's assistant tab;
// focus starts in the first field; a skip link and a shortcut reach the chat; the chat history
// is a named, focusable log; validation messages are attached to their fields.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { after, before, describe, test } from "node:test";

import {
  IN_CI,
  launchBrowser,
  makeWorkDir,
  missingPrerequisite,
  removeWorkDir,
  signUpThroughApi,
  startBackend,
  startFrontend,
  withFailureScreenshots,
} from "./harness.mjs";

const missing = missingPrerequisite();
if (missing && IN_CI) test("prerequisites for the browser tests", () => assert.fail(`CI=true but ${missing}`));

const AXE_PATH = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
const user = { email: `a11y-${Date.now().toString(36)}@example.com`, password: "correct horse battery", name: "Ada Access" };
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

describe("keyboard, screen readers and axe-core", { skip: missing && !IN_CI ? missing : false, concurrency: 1 }, () => {
  let workDir;
  let backend;
  let frontend;
  let browser;
  let session; // storage state of a signed-in user with a task and a conversation

  before(async () => {
    workDir = makeWorkDir();
    backend = await startBackend(workDir);
    frontend = await startFrontend(workDir, backend.url);
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: DESKTOP });
    const page = await context.newPage();
    await signUpThroughApi(page, frontend.url, user);
    await page.evaluate(async () => {
      const post = (path, body) => fetch(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      await post("/api/tasks", { title: "Renew the passport", priority: "high", due_date: "2031-01-15" });
      const first = await (await post("/api/chat", { message: "Add buy bread tomorrow" })).json();
      // A history longer than the log's height, to scroll by keyboard.
      for (const message of ["What do I have pending?", "Add call the bank", "What do I have pending?", "Add book a table friday", "What do I have pending?"]) {
        await post("/api/chat", { message, conversation_id: first.conversation_id });
      }
    });
    session = await context.storageState();
    await context.close();
  });

  after(async () => {
    await browser?.close();
    await frontend?.stop();
    await backend?.stop();
    if (workDir) removeWorkDir(workDir);
  });

  /** Every axe-core violation, of any impact (the app's CSP is bypassed only to inject axe). */
  async function axeViolations(page) {
    await page.addScriptTag({ path: AXE_PATH });
    return page.evaluate(async () => {
      const result = await axe.run(document, { resultTypes: ["violations"] });
      return result.violations.map((v) => `${v.id} [${v.impact}]: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")})`);
    });
  }

  const activeId = (page) => page.evaluate(() => document.activeElement?.id ?? "");

  test("sign-in and sign-up: focus in the first field, 0 axe violations", { timeout: 90_000 }, async () => {
    const context = await browser.newContext({ viewport: DESKTOP, bypassCSP: true });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    await withFailureScreenshots(browser, "a11y-auth", async () => {
      await page.goto(`${frontend.url}/signin`);
      await page.getByRole("heading", { name: "Welcome back" }).waitFor();
      assert.equal(await activeId(page), "email", "sign-in starts in the email field");
      assert.deepEqual(await axeViolations(page), []);

      await page.goto(`${frontend.url}/signup`);
      await page.getByRole("heading", { name: "Create your account" }).waitFor();
      assert.equal(await activeId(page), "name", "sign-up starts in its first field");
      assert.deepEqual(await axeViolations(page), []);
    });
    await context.close();
  });

  test("validation messages sit under their fields, in plain words, and axe still finds nothing", { timeout: 90_000 }, async () => {
    const context = await browser.newContext({ viewport: DESKTOP, bypassCSP: true });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    await withFailureScreenshots(browser, "a11y-fields", async () => {
      await page.goto(`${frontend.url}/signup`);
      const email = page.getByLabel("Email");
      const password = page.getByLabel("Password");
      await email.fill("alice");
      await password.fill("short");
      await page.getByRole("button", { name: "Create account" }).click();
      const describedText = (locator) =>
        locator.evaluate((el) => (el.getAttribute("aria-describedby") ?? "").split(" ").map((id) => document.getElementById(id)?.textContent ?? "").join(" | "));
      assert.equal(await email.getAttribute("aria-invalid"), "true");
      assert.match(await describedText(email), /Enter an email address like name@example\.com/);
      assert.equal(await password.getAttribute("aria-invalid"), "true");
      assert.match(await describedText(password), /Use at least 8 characters/);
      assert.equal(await activeId(page), "email", "the cursor goes to the first field with a problem");
      assert.deepEqual(await axeViolations(page), []);

      // The backend's own rule (a common password), shown under the field in its words.
      await email.fill(`weak-${Date.now().toString(36)}@example.com`);
      await password.fill("password123");
      await page.getByRole("button", { name: "Create account" }).click();
      await page.locator("#password-error").filter({ hasText: "most commonly used passwords" }).waitFor();
      assert.equal(await email.getAttribute("aria-invalid"), null, "a fixed field is no longer marked");
      const shown = await page.locator("form").innerText();
      assert.doesNotMatch(shown, /String should|Value error|value is not a valid|weak_password/);
    });
    await context.close();
  });

  test("board with chat on a desktop: skip link, shortcut, focusable log, 0 axe violations", { timeout: 90_000 }, async () => {
    const context = await browser.newContext({ viewport: DESKTOP, bypassCSP: true, storageState: session });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    await withFailureScreenshots(browser, "a11y-board", async () => {
      await page.goto(frontend.url);
      await page.getByTestId("task").first().waitFor();
      const log = page.getByRole("log", { name: "Conversation with the assistant" });
      await log.getByTestId("chat-assistant").first().waitFor();

      // Skip links come first and say what they do; the second lands in the chat box.
      await page.keyboard.press("Tab");
      assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Skip to tasks");
      await page.keyboard.press("Tab");
      const skip = await page.evaluate(() => ({ text: document.activeElement?.textContent, keys: document.activeElement?.getAttribute("aria-keyshortcuts") }));
      assert.match(skip.text ?? "", /^Skip to chat/);
      assert.equal(skip.keys, "/ Alt+C");
      await page.keyboard.press("Enter");
      assert.equal(await activeId(page), "chat-input");
      assert.equal(await page.locator("#chat-input").getAttribute("aria-keyshortcuts"), "/ Alt+C");
      assert.match(await page.locator("#chat-hint").innerText(), /Alt\+C/, "the shortcut is announced on screen");

      // From the task form: Alt+C (a "/" typed there stays text).
      const title = page.getByRole("region", { name: "Add a task" }).getByLabel("Title");
      await title.focus();
      await page.keyboard.press("/");
      assert.equal(await title.inputValue(), "/", "a slash in a field is just text");
      await page.keyboard.press("Alt+KeyC");
      assert.equal(await activeId(page), "chat-input", "Alt+C from the task form reaches the chat");
      await title.fill("");
      // From anywhere else on the page, "/".
      await page.getByRole("heading", { name: "Your tasks" }).click();
      await page.keyboard.press("/");
      assert.equal(await activeId(page), "chat-input", "/ reaches the chat");
      assert.equal(await page.locator("#chat-input").inputValue(), "", "the slash was not typed into the chat");

      // The history is focusable and scrolls by keyboard.
      assert.equal(await log.getAttribute("tabindex"), "0");
      const sizes = await log.evaluate((el) => ({ scroll: el.scrollHeight, client: el.clientHeight }));
      assert.ok(sizes.scroll > sizes.client, `the history overflows its box (${sizes.scroll} > ${sizes.client})`);
      await log.focus();
      await page.keyboard.press("Home");
      await page.waitForFunction(() => document.querySelector('[role="log"]').scrollTop === 0);
      await page.keyboard.press("End");
      await page.waitForFunction(() => {
        const el = document.querySelector('[role="log"]');
        return el.scrollTop > 0;
      });

      assert.deepEqual(await axeViolations(page), []);
      // An expanded action list is checked too.
      await page.locator("details summary").first().click();
      assert.deepEqual(await axeViolations(page), []);
    });
    await context.close();
  });

  test("the assistant tab on a phone: 0 axe violations; the skip link switches to it", { timeout: 90_000 }, async () => {
    const context = await browser.newContext({ ...PHONE, bypassCSP: true, storageState: session });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    await withFailureScreenshots(browser, "a11y-phone", async () => {
      await page.goto(frontend.url);
      await page.getByTestId("task").first().waitFor();
      assert.deepEqual(await axeViolations(page), [], "tasks tab");
      await page.getByRole("button", { name: "Assistant" }).click();
      await page.getByRole("log", { name: "Conversation with the assistant" }).getByTestId("chat-user").first().waitFor();
      assert.deepEqual(await axeViolations(page), [], "assistant tab");

      // Back on the tasks tab, the skip link opens the assistant tab and focuses its input.
      await page.getByRole("button", { name: "Tasks" }).click();
      await page.locator("#chat-input").waitFor({ state: "hidden" });
      await page.getByRole("link", { name: /Skip to chat/ }).focus();
      await page.keyboard.press("Enter");
      assert.equal(await activeId(page), "chat-input");
      assert.equal(await page.getByRole("button", { name: "Assistant" }).getAttribute("aria-pressed"), "true");
    });
    await context.close();
  });
});
