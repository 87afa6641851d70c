// End-to-end harness: the real backend (uv, temp SQLite, offline `local` agent) and the built
// frontend (`node .next/standalone/server.js`) on free 127.0.0.1 ports, driven by Debian's Chromium
// through playwright-core. Never downloads a browser.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { homedir, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";

export const FRONTEND_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const REPO_ROOT = resolve(FRONTEND_DIR, "..");
export const ARTIFACTS = join(REPO_ROOT, "artifacts", "e2e");
export const IN_CI = ["1", "true", "yes"].includes((process.env.CI ?? "").toLowerCase());

const STANDALONE_SERVER = join(FRONTEND_DIR, ".next", "standalone", "server.js");

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

/** The Chromium binary, or a reason it cannot be used. */
export function findChromium() {
  // CHROMIUM_PATH, when set, is the only candidate (also how to check the "missing browser" path).
  const candidates = process.env.CHROMIUM_PATH ? [process.env.CHROMIUM_PATH] : ["/usr/bin/chromium", "/usr/bin/chromium-browser"];
  const path = candidates.find((p) => existsSync(p));
  return path ? { path } : { reason: `Chromium is not installed (looked for ${candidates.join(", ")}; apt-get install chromium)` };
}

/** What stops the suite from running; with CI=true the caller turns this into a failure. */
export function missingPrerequisite() {
  const chromium = findChromium();
  if (!chromium.path) return chromium.reason;
  if (!findUv()) return "uv is not installed (needed to run the backend)";
  return standaloneMissing();
}

export function standaloneMissing() {
  return existsSync(STANDALONE_SERVER) ? null : `${STANDALONE_SERVER} is missing: run \`npm run build\` in frontend/ first`;
}

function findUv() {
  const candidates = [process.env.UV, join(homedir(), ".local", "bin", "uv"), "/usr/local/bin/uv"].filter(Boolean);
  const onPath = spawnSync("sh", ["-c", "command -v uv"], { encoding: "utf8" }).stdout.trim();
  if (onPath) candidates.unshift(onPath);
  return candidates.find((p) => existsSync(p)) ?? null;
}

export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

/** Poll `url` until it answers 200, for at most `timeoutMs`; fail with the process log if it never does. */
async function waitForHttp(url, timeoutMs, child, logPath) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  const log = existsSync(logPath) ? readFileSync(logPath, "utf8").slice(-3000) : "";
  throw new Error(`${url} did not answer within ${timeoutMs} ms (exit code ${child.exitCode}).\n${log}`);
}

function startProcess(name, command, args, { env, cwd, logDir }) {
  const logPath = join(logDir, `${name}.log`);
  const log = createWriteStream(logPath);
  const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    const done = await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]);
    if (!done) {
      child.kill("SIGKILL");
      await exited;
    }
  };
  return { child, logPath, stop };
}

/** Start the backend on a free port with a throwaway SQLite database. */
export async function startBackend(workDir) {
  return startBackendOn(workDir, await freePort(), randomBytes(32).toString("hex"));
}

/** Start the backend again on the same port, database and signing secret as `backend` (stopped
 * before): the browser's session and data survive, as after a real restart. */
export async function restartBackend(workDir, backend, name = "backend-restarted") {
  return startBackendOn(workDir, backend.port, backend.authSecret, name);
}

async function startBackendOn(workDir, port, authSecret, name = "backend") {
  const uv = findUv();
  const proc = startProcess(
    name,
    uv,
    ["run", "--project", join(REPO_ROOT, "backend"), "--frozen", "todo-api", "serve", "--host", "127.0.0.1", "--port", String(port)],
    {
      cwd: workDir,
      logDir: workDir,
      env: {
        APP_ENV: "development",
        DATABASE_URL: `sqlite:///${join(workDir, "e2e.db")}`,
        MIGRATE_ON_START: "true",
        AUTH_SECRET: authSecret,
        LLM_PROVIDER: "local",
        LOGIN_RATE_LIMIT: "1000/minute",
        CHAT_RATE_LIMIT: "1000/minute",
        LOG_LEVEL: "WARNING",
        CORS_ORIGINS: "",
      },
    },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/health`, 60_000, proc.child, proc.logPath);
  return { url, port, authSecret, ...proc };
}

/** Start the built standalone frontend, pointed at `backendUrl` through the environment only. */
export async function startFrontend(workDir, backendUrl, name = "frontend", extraEnv = {}) {
  const port = await freePort();
  const proc = startProcess(name, process.execPath, [STANDALONE_SERVER], {
    cwd: join(FRONTEND_DIR, ".next", "standalone"),
    logDir: workDir,
    env: { NODE_ENV: "production", PORT: String(port), HOSTNAME: "127.0.0.1", BACKEND_URL: backendUrl, NEXT_TELEMETRY_DISABLED: "1", ...extraEnv },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/health`, 30_000, proc.child, proc.logPath);
  return { url, ...proc };
}

export function makeWorkDir() {
  return mkdtempSync(join(tmpdir(), "todo-e2e-"));
}

export function removeWorkDir(dir) {
  rmSync(dir, { recursive: true, force: true });
}

/** Launch Chromium headless. Playwright gives every launch a fresh temporary profile directory
 * (user-data-dir), removed on close; each test user gets its own isolated context in it. */
export async function launchBrowser() {
  const { chromium } = await import("playwright-core");
  return chromium.launch({ executablePath: findChromium().path, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
}

/** Start each run with an empty artifacts/e2e so old failure screenshots do not linger. */
export function resetArtifacts() {
  rmSync(ARTIFACTS, { recursive: true, force: true });
  mkdirSync(ARTIFACTS, { recursive: true });
}

export function screenshotPath(name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  return join(ARTIFACTS, `${name}.png`);
}

/** A direct REST client for the backend (a "second client" beside the browser), with a user's token. */
export function restClient(backendUrl, token) {
  const call = async (method, path, body) => {
    const response = await fetch(`${backendUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
  };
  return {
    get: (path) => call("GET", path),
    post: (path, body) => call("POST", path, body),
    patch: (path, body) => call("PATCH", path, body),
    delete: (path) => call("DELETE", path),
  };
}

/** Create an account straight on the backend; returns its bearer token. */
export async function signUpViaApi(backendUrl, { email, password, name = "" }) {
  const response = await fetch(`${backendUrl}/api/auth/signup`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password, name }),
  });
  if (response.status !== 201) throw new Error(`signup answered ${response.status}: ${await response.text()}`);
  return (await response.json()).access_token;
}

/** Sign a browser page in through the sign-in form and wait for the board. */
export async function signInPage(page, frontendUrl, { email, password }) {
  await page.goto(`${frontendUrl}/signin`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Your tasks" }).waitFor();
}

/** A date `days` from today as YYYY-MM-DD in this machine's time zone (the browser's too). */
export function localDate(days = 0) {
  const d = new Date();
  d.setDate(d.getDate() + days);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

/** Save a screenshot of every open page of `browser` (called when a test fails). */
export async function screenshotAll(browser, name) {
  const slug = name.replace(/[^a-z0-9]+/gi, "-").toLowerCase();
  for (const [i, p] of (browser?.contexts() ?? []).flatMap((c) => c.pages()).entries()) {
    await p.screenshot({ path: screenshotPath(`FAILED-${slug}-${i}`), fullPage: true }).catch(() => {});
  }
}

/** A new account signed in on `page` (its context keeps the session cookie), made through the
 * app's own /api/auth/signup so tests that are not about the sign-up form skip typing it. */
export async function signUpThroughApi(page, frontendUrl, user) {
  await page.goto(`${frontendUrl}/signin`);
  const status = await page.evaluate(async (body) => {
    const response = await fetch("/api/auth/signup", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    return response.status;
  }, user);
  if (status !== 201 && status !== 200) throw new Error(`sign-up of ${user.email} answered ${status}`);
}

/** Run `fn(page)` and save a screenshot of every open page of `browser` when it throws. */
export async function withFailureScreenshots(browser, name, fn) {
  try {
    await fn();
  } catch (error) {
    await screenshotAll(browser, name);
    throw error;
  }
}
