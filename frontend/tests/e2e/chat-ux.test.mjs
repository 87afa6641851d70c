// Clear messages and readable assistant actions (issue 19, items 3 and 4): a character counter
// near the limit, a long paste refused with a reason (never cut), action details collapsed, a
// listing shown once, a clarifying question shown as a question, dates as on the board.
import assert from "node:assert/strict";
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
  screenshotPath,
} from "./harness.mjs";

const missing = missingPrerequisite();
if (missing && IN_CI) test("prerequisites for the browser tests", () => assert.fail(`CI=true but ${missing}`));

const user = { email: `chat-ux-${Date.now().toString(36)}@example.com`, password: "correct horse battery", name: "Chad Chat" };
const LIMIT = 2000; // the backend's chat_max_message_chars default

describe("chat messages and actions", { skip: missing && !IN_CI ? missing : false, concurrency: 1 }, () => {
  let workDir;
  let backend;
  let frontend;
  let browser;
  let context;
  let page;

  before(async () => {
    workDir = makeWorkDir();
    backend = await startBackend(workDir);
    frontend = await startFrontend(workDir, backend.url);
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: frontend.url });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    await signUpThroughApi(page, frontend.url, user);
    await page.goto(frontend.url);
    await page.getByRole("heading", { name: "Your tasks" }).waitFor();
  });

  after(async () => {
    await browser?.close();
    await frontend?.stop();
    await backend?.stop();
    if (workDir) removeWorkDir(workDir);
  });

  const chat = () => page.getByRole("region", { name: "Assistant" });
  const input = () => chat().getByLabel("Message the assistant");
  const lastReply = () => chat().getByTestId("chat-assistant").last();

  async function say(text) {
    const before = await chat().getByTestId("chat-assistant").count();
    await input().fill(text);
    await input().press("Enter");
    await chat().getByTestId("chat-assistant").nth(before).waitFor({ timeout: 30_000 });
    return lastReply();
  }

  test("a counter appears near the limit; over it, sending is refused with the count", { timeout: 60_000 }, async () => {
    await withFailureScreenshots(browser, "chat-counter", async () => {
      const counter = chat().getByTestId("chat-counter");
      await input().fill("a".repeat(100));
      assert.equal(await counter.isVisible(), false, "no counter for a short message");
      await input().fill("a".repeat(LIMIT - 50));
      await counter.filter({ hasText: `1,950 / 2,000 characters` }).waitFor();
      // Typed (or dropped) past the limit: nothing is cut, the counter says by how much, Send waits.
      await input().fill("a".repeat(LIMIT + 5));
      assert.equal((await input().inputValue()).length, LIMIT + 5, "the text is not cut");
      await counter.filter({ hasText: "5 too many" }).waitFor();
      assert.equal(await input().getAttribute("aria-invalid"), "true");
      assert.equal(await chat().getByRole("button", { name: "Send" }).isDisabled(), true);
      await input().press("Enter");
      await chat().getByRole("alert").filter({ hasText: "the limit is 2,000" }).waitFor();
      assert.equal(await chat().getByTestId("chat-user").count(), 0, "nothing was sent");
      await input().fill("");
    });
  });

  test("a paste that would go over the limit is refused with a message, not cut", { timeout: 60_000 }, async () => {
    await withFailureScreenshots(browser, "chat-paste", async () => {
      await input().fill("Note: ");
      await input().press("End");
      await page.evaluate((text) => navigator.clipboard.writeText(text), "b".repeat(LIMIT + 500));
      await input().press("Control+V");
      await chat().getByRole("alert").filter({ hasText: "Nothing was pasted" }).waitFor();
      assert.match(await chat().getByRole("alert").innerText(), /2,506 characters.*limit is 2,000/);
      assert.equal(await input().inputValue(), "Note: ", "the long paste did not go in, not even partly");
      // A paste that fits goes in as usual.
      await page.evaluate((text) => navigator.clipboard.writeText(text), "buy milk");
      await input().press("Control+V");
      assert.equal(await input().inputValue(), "Note: buy milk");
      await input().fill("");
    });
  });

  test("action details are collapsed, with dates as on the board", { timeout: 60_000 }, async () => {
    await withFailureScreenshots(browser, "chat-actions", async () => {
      const reply = await say("Add buy milk tomorrow 5pm");
      await page.getByTestId("task").filter({ hasText: "buy milk" }).waitFor();
      const details = reply.locator("details");
      assert.equal(await details.count(), 1);
      assert.equal(await details.evaluate((d) => d.open), false, "collapsed by default");
      assert.equal(await reply.getByRole("list", { name: "Actions taken" }).isVisible(), false);
      await details.locator("summary").click();
      const shown = await reply.getByRole("list", { name: "Actions taken" }).innerText();
      const onBoard = await page.getByTestId("task").filter({ hasText: "buy milk" }).innerText();
      assert.match(onBoard, /Due Tomorrow, 17:00/);
      assert.match(shown, /Due Tomorrow, 17:00/, `the action reads the date as the board does: ${shown}`);
    });
  });

  test("a listing appears once", { timeout: 60_000 }, async () => {
    await withFailureScreenshots(browser, "chat-listing", async () => {
      await say("Add buy milk powder");
      const reply = await say("What do I have pending?");
      const text = await reply.innerText();
      assert.match(text, /buy milk powder/);
      const times = text.split("buy milk powder").length - 1;
      assert.equal(times, 1, `the listing is shown once, not again in the details: ${text}`);
      assert.equal(await reply.locator("details").count(), 0, "nothing left to detail");
    });
  });

  test("a clarifying question is shown as a question, not as a failure", { timeout: 60_000 }, async () => {
    await withFailureScreenshots(browser, "chat-question", async () => {
      const reply = await say("complete milk");
      await reply.filter({ hasText: "Which task do you mean" }).waitFor();
      assert.equal(await reply.getAttribute("data-question"), "true");
      const text = await reply.innerText();
      assert.match(text, /question/i, "marked as a question");
      assert.doesNotMatch(text, /Could not/);
      assert.equal(text.split("#2 buy milk powder").length - 1, 1, "the candidates are listed once");
      await page.screenshot({ path: screenshotPath("chat-question") });
      // Answering it works as before.
      await say("the powder one");
    });
  });
});
