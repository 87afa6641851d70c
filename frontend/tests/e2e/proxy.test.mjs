// The /api proxy of the built frontend, against a recording HTTP server standing in for the backend
// (no browser needed): what is forwarded, what comes back, the session cookie, timeouts.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, describe, test } from "node:test";

import { IN_CI, makeWorkDir, removeWorkDir, standaloneMissing, startFrontend } from "./harness.mjs";

const missing = standaloneMissing();
if (missing && IN_CI) test("prerequisites for the proxy tests", () => assert.fail(`CI=true but ${missing}`));

describe("the /api proxy", { skip: missing && !IN_CI ? missing : false, concurrency: 1 }, () => {
  let workDir;
  let backend;
  let backendUrl;
  let frontend;
  const seen = [];

  before(async () => {
    workDir = makeWorkDir();
    backend = createServer((req, res) => {
      const chunks = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        seen.push({ method: req.method, url: req.url, headers: req.headers, body });
        const url = new URL(req.url, "http://x");
        if (url.pathname === "/api/slow") {
          setTimeout(() => res.writeHead(200).end("{}"), 3000).unref();
          return;
        }
        if (url.pathname === "/api/auth/login") {
          res.writeHead(200, { "content-type": "application/json", "x-request-id": req.headers["x-request-id"] ?? "" });
          const exp = Math.floor(Date.now() / 1000) + 3600;
          const token = `h.${Buffer.from(JSON.stringify({ sub: "7", exp })).toString("base64url")}.sig`;
          res.end(JSON.stringify({ access_token: token, token_type: "bearer", user: { id: 7, email: "a@example.com" } }));
          return;
        }
        if (url.pathname === "/api/tasks" && req.method === "GET") {
          // The backend's conditional listing: 304 without a body when If-None-Match holds the ETag.
          const etag = 'W/"v1"';
          const headers = { etag, "cache-control": "no-cache, private" };
          if (req.headers["if-none-match"] === etag) {
            res.writeHead(304, headers).end();
            return;
          }
          res.writeHead(200, { ...headers, "content-type": "application/json" }).end(JSON.stringify({ items: [] }));
          return;
        }
        if (url.pathname === "/api/expired") {
          res.writeHead(401, { "content-type": "application/json" }).end(JSON.stringify({ detail: "Invalid token" }));
          return;
        }
        if (req.method === "DELETE") {
          res.writeHead(204).end();
          return;
        }
        res.writeHead(url.pathname === "/api/limited" ? 429 : 200, {
          "content-type": "application/json",
          "retry-after": "17",
          "x-request-id": req.headers["x-request-id"] ?? "",
          "set-cookie": "backend_cookie=leak; Path=/",
        });
        res.end(JSON.stringify({ echo: { method: req.method, url: req.url, body } }));
      });
    });
    await new Promise((r) => backend.listen(0, "127.0.0.1", r));
    backendUrl = `http://127.0.0.1:${backend.address().port}`;
    frontend = await startFrontend(workDir, backendUrl, "frontend-proxy", { BACKEND_TIMEOUT_SECONDS: "1" });
  });

  after(async () => {
    await frontend?.stop();
    await new Promise((r) => (backend ? backend.close(r) : r()));
    if (workDir) removeWorkDir(workDir);
  });

  const last = () => seen.at(-1);

  test("forwards method, path, query, body, content type and request id; cookie becomes Bearer", async () => {
    const response = await fetch(`${frontend.url}/api/tasks?status=pending&q=milk%20and%20bread&sort=due`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie: "todo_session=tok123; other=1", "x-request-id": "req-abc.1" },
      body: JSON.stringify({ title: "Milk", due_date: "2030-01-02" }),
    });
    assert.equal(response.status, 200);
    const got = last();
    assert.equal(got.method, "POST");
    const forwarded = new URL(got.url, "http://x");
    assert.equal(forwarded.pathname, "/api/tasks");
    // Same parameters (Next.js may re-encode a space as "+", which means the same in a query).
    assert.deepEqual([...forwarded.searchParams], [["status", "pending"], ["q", "milk and bread"], ["sort", "due"]]);
    assert.equal(got.body, JSON.stringify({ title: "Milk", due_date: "2030-01-02" }));
    assert.equal(got.headers["content-type"], "application/json");
    assert.equal(got.headers.authorization, "Bearer tok123");
    assert.equal(got.headers["x-request-id"], "req-abc.1");
    assert.equal(got.headers.cookie, undefined, "browser cookies are not sent to the backend");
    assert.equal(response.headers.get("x-request-id"), "req-abc.1");
    assert.equal(response.headers.get("set-cookie"), null, "backend cookies are not passed to the browser");
    assert.deepEqual((await response.json()).echo.method, "POST");
  });

  test("a request id is made up when the browser sends none (or an unsafe one)", async () => {
    const response = await fetch(`${frontend.url}/api/tasks`, { headers: { "x-request-id": "bad id\twith spaces" } });
    assert.equal(response.status, 200);
    assert.match(last().headers["x-request-id"], /^[a-f0-9]{32}$/);
    assert.equal(last().headers.authorization, undefined, "no cookie, no Authorization");
  });

  test("PATCH and DELETE pass through; 204 has no body", async () => {
    const patch = await fetch(`${frontend.url}/api/tasks/5`, { method: "PATCH", headers: { "content-type": "application/json" }, body: "{\"title\":\"x\"}" });
    assert.equal(patch.status, 200);
    assert.equal(last().method, "PATCH");
    const del = await fetch(`${frontend.url}/api/tasks/5`, { method: "DELETE" });
    assert.equal(del.status, 204);
    assert.equal(await del.text(), "");
  });

  test("the board's poll: If-None-Match goes to the backend, its 304 and ETag come back", async () => {
    const first = await fetch(`${frontend.url}/api/tasks?due=today`, { headers: { cookie: "todo_session=tok123" } });
    assert.equal(first.status, 200);
    assert.equal(first.headers.get("etag"), 'W/"v1"');
    assert.equal(first.headers.get("cache-control"), "no-cache, private");
    assert.deepEqual(await first.json(), { items: [] });
    const poll = await fetch(`${frontend.url}/api/tasks?due=today`, {
      headers: { cookie: "todo_session=tok123", "if-none-match": 'W/"v1"' },
    });
    assert.equal(last().headers["if-none-match"], 'W/"v1"');
    assert.equal(poll.status, 304);
    assert.equal(poll.headers.get("etag"), 'W/"v1"');
    assert.equal(poll.headers.get("cache-control"), "no-cache, private");
    assert.equal((await poll.arrayBuffer()).byteLength, 0);
    const stale = await fetch(`${frontend.url}/api/tasks?due=today`, {
      headers: { cookie: "todo_session=tok123", "if-none-match": 'W/"v0"' },
    });
    assert.equal(stale.status, 200);
    assert.deepEqual(await stale.json(), { items: [] });
  });

  test("status codes and Retry-After reach the browser", async () => {
    const response = await fetch(`${frontend.url}/api/limited`);
    assert.equal(response.status, 429);
    assert.equal(response.headers.get("retry-after"), "17");
  });

  test("sign-in keeps the token server-side: httpOnly SameSite=Lax cookie, user only in the body", async () => {
    const response = await fetch(`${frontend.url}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "a@example.com", password: "x" }),
    });
    assert.equal(response.status, 200);
    const body = await response.json();
    assert.deepEqual(body, { user: { id: 7, email: "a@example.com" } });
    const cookie = response.headers.get("set-cookie") ?? "";
    assert.match(cookie, /^todo_session=h\./);
    assert.match(cookie, /HttpOnly/i);
    assert.match(cookie, /SameSite=lax/i);
    assert.match(cookie, /Path=\//);
    assert.match(cookie, /Max-Age=(35\d\d|3600)/);
    assert.doesNotMatch(cookie, /Secure/i, "plain http: no Secure flag");

    const https = await fetch(`${frontend.url}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-forwarded-proto": "https" },
      body: "{}",
    });
    assert.match(https.headers.get("set-cookie") ?? "", /Secure/i, "https (via the ingress) sets Secure");
  });

  test("sign-out clears the cookie; a rejected token clears it too", async () => {
    const out = await fetch(`${frontend.url}/api/auth/logout`, { method: "POST", headers: { cookie: "todo_session=tok" } });
    assert.equal(out.status, 204);
    assert.match(out.headers.get("set-cookie") ?? "", /todo_session=;.*Max-Age=0/i);
    const expired = await fetch(`${frontend.url}/api/expired`, { headers: { cookie: "todo_session=old" } });
    assert.equal(expired.status, 401);
    assert.match(expired.headers.get("set-cookie") ?? "", /todo_session=;.*Max-Age=0/i);
  });

  test("cross-site writes are refused before reaching the backend", async () => {
    const before = seen.length;
    const response = await fetch(`${frontend.url}/api/tasks`, {
      method: "POST",
      headers: { origin: "http://evil.example", "content-type": "application/json", cookie: "todo_session=tok" },
      body: "{}",
    });
    assert.equal(response.status, 403);
    assert.equal(typeof (await response.json()).detail, "string");
    assert.equal(seen.length, before);
    const sameSite = await fetch(`${frontend.url}/api/tasks`, {
      method: "POST",
      headers: { origin: frontend.url, "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(sameSite.status, 200);
  });

  test("oversized bodies are refused with 413 before reaching the backend", async () => {
    const before = seen.length;
    const response = await fetch(`${frontend.url}/api/tasks`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ title: "x".repeat(2 * 1024 * 1024) }),
    });
    assert.equal(response.status, 413);
    assert.equal(typeof (await response.json()).detail, "string");
    assert.equal(seen.length, before);
  });

  test("a backend that does not answer in time gives 504 JSON", async () => {
    const response = await fetch(`${frontend.url}/api/slow`);
    assert.equal(response.status, 504);
    assert.match((await response.json()).detail, /too long/);
  });

  test("the client's X-Forwarded-For never reaches the backend: the socket peer does", async () => {
    for (const path of ["/api/tasks", "/api/auth/login"]) {
      const response = await fetch(`${frontend.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-forwarded-for": "6.6.6.6, 7.7.7.7", "x-real-ip": "8.8.8.8" },
        body: "{}",
      });
      assert.equal(response.status, 200, path);
      const got = last().headers;
      assert.equal(got["x-forwarded-for"], "127.0.0.1", path);
      assert.equal(got["x-real-ip"], undefined, path);
      assert.deepEqual(Object.keys(got).filter((name) => name.startsWith("x-todo-client-")), [], "the internal header stays inside");
    }
  });

  test("behind a trusted proxy (TRUSTED_PROXY_IPS) the address that proxy saw is forwarded", async () => {
    const behindProxy = await startFrontend(workDir, backendUrl, "frontend-trusted", { TRUSTED_PROXY_IPS: "127.0.0.1/32,::1" });
    try {
      const response = await fetch(`${behindProxy.url}/api/tasks`, { headers: { "x-forwarded-for": "6.6.6.6, 198.51.100.4" } });
      assert.equal(response.status, 200);
      assert.equal(last().headers["x-forwarded-for"], "198.51.100.4", "the entry the trusted proxy appended, not the client's");
    } finally {
      await behindProxy.stop();
    }
  });

  test("only /api/* is proxied; /health stays local", async () => {
    const before = seen.length;
    const health = await fetch(`${frontend.url}/health`);
    assert.deepEqual(await health.json(), { status: "healthy", version: process.env.APP_VERSION || "dev" });
    const traversal = await fetch(`${frontend.url}/api/../metrics`);
    assert.notEqual(traversal.status, 200);
    assert.equal(seen.filter((r) => r.url.includes("metrics")).length, 0);
    assert.equal(seen.length, before);
  });
});
