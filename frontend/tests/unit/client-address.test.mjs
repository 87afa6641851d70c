// The client address behind the per-IP limits: the socket peer, unless the peer is a trusted proxy.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { test } from "node:test";

const require = createRequire(import.meta.url);
const { clientAddress, normaliseAddress, parseTrustedProxies } = require("../../.unit-build/lib/client-address.js");
const { clientAddressOf, installClientAddressHook } = require("../../.unit-build/lib/client-address-hook.js");

const none = parseTrustedProxies("");

test("without trusted proxies the client's X-Forwarded-For is ignored: the socket peer counts", () => {
  assert.equal(clientAddress("203.0.113.9", "1.2.3.4", none), "203.0.113.9");
  assert.equal(clientAddress("203.0.113.9", "1.2.3.4, 5.6.7.8", none), "203.0.113.9");
  assert.equal(clientAddress("::ffff:127.0.0.1", "9.9.9.9", none), "127.0.0.1");
  assert.equal(clientAddress("::1", undefined, none), "::1");
  assert.equal(clientAddress(undefined, "9.9.9.9", none), null);
});

test("behind a trusted proxy the chain is walked from the right to the first untrusted address", () => {
  const trusted = parseTrustedProxies("10.0.0.0/8, 192.0.2.7 ,fd00::/8");
  // The load balancer (10.1.2.3) appended the real client; what the client wrote before it is ignored.
  assert.equal(clientAddress("10.1.2.3", "6.6.6.6, 198.51.100.4", trusted), "198.51.100.4");
  // Two trusted hops (an ingress behind a load balancer).
  assert.equal(clientAddress("192.0.2.7", "6.6.6.6, 198.51.100.4, 10.9.9.9", trusted), "198.51.100.4");
  assert.equal(clientAddress("fd00::5", "2001:db8::1", trusted), "2001:db8::1");
  assert.equal(clientAddress("::ffff:10.0.0.1", "198.51.100.4", trusted), "198.51.100.4");
  // Multiple headers are one list.
  assert.equal(clientAddress("10.1.2.3", ["6.6.6.6", "198.51.100.4"], trusted), "198.51.100.4");
  // A trusted peer that sent no chain (a health check): the peer itself.
  assert.equal(clientAddress("10.1.2.3", undefined, trusted), "10.1.2.3");
  // All hops trusted: the leftmost one.
  assert.equal(clientAddress("10.1.2.3", "10.7.7.7", trusted), "10.7.7.7");
  // Garbage stops the walk at the last address a trusted proxy vouched for.
  assert.equal(clientAddress("10.1.2.3", "198.51.100.4, not-an-ip", trusted), "10.1.2.3");
  // An untrusted peer's chain is ignored even when it names trusted addresses.
  assert.equal(clientAddress("198.51.100.4", "10.0.0.1", trusted), "198.51.100.4");
});

test("addresses are normalised; anything else is not an address", () => {
  assert.equal(normaliseAddress(" 198.51.100.4:5678 "), "198.51.100.4");
  assert.equal(normaliseAddress("[2001:db8::1]:443"), "2001:db8::1");
  assert.equal(normaliseAddress("::FFFF:10.0.0.1"), "10.0.0.1");
  for (const bad of ["", "unknown", "1.2.3", "_hidden", "1.2.3.4.5"]) assert.equal(normaliseAddress(bad), null, bad);
});

test("a malformed TRUSTED_PROXY_IPS entry is an error that names the variable", () => {
  for (const bad of ["10.0.0.0/33", "fd00::/129", "example.com", "10.0.0.0/8/1", "10.0.0.0/x"]) {
    assert.throws(() => parseTrustedProxies(bad), /TRUSTED_PROXY_IPS/, bad);
  }
  assert.doesNotThrow(() => parseTrustedProxies(" , 127.0.0.1,::1, 172.16.0.0/12,"));
});

test("the hook decides the address from the socket before the request is handled", async () => {
  installClientAddressHook("");
  const server = createServer((req, res) => {
    const headers = new Headers(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
    res.end(JSON.stringify({ address: clientAddressOf(headers), names: Object.keys(req.headers) }));
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  try {
    const { port } = server.address();
    const response = await fetch(`http://127.0.0.1:${port}/`, { headers: { "x-forwarded-for": "6.6.6.6" } });
    const body = await response.json();
    assert.equal(body.address, "127.0.0.1");
    const secret = body.names.find((name) => name.startsWith("x-todo-client-"));
    assert.match(secret, /^x-todo-client-[0-9a-f]{24}$/, "the header name is random per process");
  } finally {
    await new Promise((r) => server.close(r));
  }
});
