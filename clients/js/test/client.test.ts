import { afterEach, describe, expect, it, vi } from "vitest";

import {
  AuthenticationError,
  type KeywardEvent,
  KeywardClient,
  type LockManagerLike,
  NotAuthenticatedError,
  type TokenStore,
  ValidationError,
  localLocks,
  memoryStore,
} from "../src/index.js";
import { type Clock, FakeKeyward, clock } from "./fake-keyward.js";

const BASE = "http://keyward.test";
const open: KeywardClient[] = [];

afterEach(() => {
  for (const client of open.splice(0)) client.close();
  vi.useRealTimers();
});

/** A store the tabs share, as `localStorage` is. */
function sharedStore(): TokenStore {
  const store = memoryStore();
  return { ...store, shared: true };
}

interface Tab {
  client: KeywardClient;
  events: KeywardEvent[];
}

function tab(
  server: FakeKeyward,
  time: Clock,
  options: { store?: TokenStore; locks?: LockManagerLike; channel?: string | null } = {},
): Tab {
  const client = new KeywardClient({
    baseUrl: BASE,
    transport: server.transport,
    fetch: server.fetch,
    now: time.now,
    store: options.store ?? memoryStore(),
    locks: options.locks ?? localLocks(),
    channel: options.channel ? new BroadcastChannel(options.channel) : null,
    autoRefresh: false,
  });
  open.push(client);
  const events: KeywardEvent[] = [];
  client.subscribe((event) => {
    if (event.type !== "response") events.push(event);
  });
  return { client, events };
}

/** Lets queued messages (BroadcastChannel) and timers of 0 ms run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

let channels = 0;
const channelName = () => `keyward-test-${++channels}-${Math.random()}`;

describe.each(["body", "cookie"] as const)("with the %s transport", (transport) => {
  it("signs in, calls a protected route, and logs out", async () => {
    const time = clock();
    const server = new FakeKeyward(time, { transport });
    server.addUser("alice", "tangerine-voyage-41");
    const { client, events } = tab(server, time);

    await client.login("alice", "tangerine-voyage-41");
    expect(client.isAuthenticated).toBe(true);
    expect(await client.me()).toMatchObject({ username: "alice" });
    await client.logout();
    expect(client.isAuthenticated).toBe(false);
    expect([...server.sessions.values()].every((s) => s.ended)).toBe(true);
    expect(events).toEqual([{ type: "signed-in" }, { type: "signed-out", reason: "logout" }]);
    await expect(client.me()).rejects.toBeInstanceOf(NotAuthenticatedError);
  });

  it("shares one refresh among concurrent calls", async () => {
    const time = clock();
    const server = new FakeKeyward(time, { transport, accessLifetime: 60 });
    server.addUser("alice", "tangerine-voyage-41");
    const { client } = tab(server, time);
    await client.login("alice", "tangerine-voyage-41");

    time.advance(50_000); // past the refresh point: 59 s less a quarter
    let release: () => void = () => undefined;
    server.gate = new Promise((resolve) => (release = resolve));
    const calls = Array.from({ length: 5 }, () => client.me());
    await settle();
    release();
    const users = await Promise.all(calls);
    expect(users.map((u) => u.username)).toEqual(Array(5).fill("alice"));
    expect(server.refreshes).toBe(1);
    expect(server.reuses).toBe(0);
  });

  it("refreshes and retries once on a 401 token_not_valid", async () => {
    const clientTime = clock();
    const serverTime = clock();
    const server = new FakeKeyward(serverTime, { transport, accessLifetime: 60 });
    server.addUser("alice", "tangerine-voyage-41");
    const { client } = tab(server, clientTime);
    await client.login("alice", "tangerine-voyage-41");

    serverTime.advance(61_000); // the server's clock is ahead: the token is expired there
    expect(await client.me()).toMatchObject({ username: "alice" });
    expect(server.refreshes).toBe(1);
  });

  it("signs out when the session has ended, and returns keyward's 401", async () => {
    const time = clock();
    const server = new FakeKeyward(time, { transport });
    server.addUser("alice", "tangerine-voyage-41");
    const { client, events } = tab(server, time);
    await client.login("alice", "tangerine-voyage-41");

    server.revokeAll();
    const response = await client.fetch("/api/me/");
    expect(response.status).toBe(401);
    expect(client.isAuthenticated).toBe(false);
    expect(events.at(-1)).toEqual({ type: "signed-out", reason: "expired" });
  });

  it("never reuses a refresh token when two tabs refresh at once", async () => {
    const time = clock();
    const server = new FakeKeyward(time, { transport, accessLifetime: 60 });
    server.addUser("alice", "tangerine-voyage-41");
    const store = sharedStore();
    const locks = localLocks(); // one lock for the browser, as navigator.locks is
    const name = channelName();
    const a = tab(server, time, { store, locks, channel: name });
    const b = tab(server, time, { store, locks, channel: name });
    await a.client.login("alice", "tangerine-voyage-41");
    await settle();
    expect(b.client.isAuthenticated).toBe(true); // the pair reached the other tab

    for (let round = 0; round < 3; round += 1) {
      time.advance(50_000);
      await Promise.all([a.client.refresh(), b.client.refresh()]);
      await settle();
      const users = await Promise.all([a.client.me(), b.client.me()]);
      expect(users.map((u) => u.username)).toEqual(["alice", "alice"]);
    }
    expect(server.reuses).toBe(0);
    expect([...server.sessions.values()].map((s) => s.ended)).toEqual([false]);
    expect(server.refreshes).toBeLessThanOrEqual(6);
  });

  it("would lose the session without the shared lock (the fake enforces rotation)", async () => {
    const time = clock();
    const server = new FakeKeyward(time, { transport, accessLifetime: 60 });
    server.addUser("alice", "tangerine-voyage-41");
    const store = sharedStore();
    const a = tab(server, time, { store });
    const b = tab(server, time, { store });
    await a.client.login("alice", "tangerine-voyage-41");
    await b.client.restore();

    time.advance(50_000);
    let release: () => void = () => undefined;
    server.gate = new Promise((resolve) => (release = resolve));
    const both = Promise.allSettled([a.client.refresh(), b.client.refresh()]);
    await settle();
    release();
    await both;
    expect(server.reuses).toBe(1);
    expect([...server.sessions.values()].map((s) => s.ended)).toEqual([true]);
  });

  it("hands new tokens to the other tab, which then needs no refresh", async () => {
    const time = clock();
    const server = new FakeKeyward(time, { transport, accessLifetime: 60 });
    server.addUser("alice", "tangerine-voyage-41");
    const store = sharedStore();
    const locks = localLocks();
    const name = channelName();
    const a = tab(server, time, { store, locks, channel: name });
    const b = tab(server, time, { store, locks, channel: name });
    await a.client.login("alice", "tangerine-voyage-41");
    await settle();

    time.advance(50_000);
    await a.client.refresh();
    await settle();
    expect(b.client.accessToken).toBe(a.client.accessToken);
    expect(b.events).toContainEqual({ type: "refreshed", by: "other-tab" });
    await b.client.me();
    expect(server.refreshes).toBe(1);

    await b.client.logout();
    await settle();
    expect(a.client.isAuthenticated).toBe(false);
    expect(a.events.at(-1)).toEqual({ type: "signed-out", reason: "logout" });
  });

  it("sends nothing at a page load without a session", async () => {
    const time = clock();
    const server = new FakeKeyward(time, { transport });
    const { client } = tab(server, time, { store: sharedStore() });
    const sent: string[] = [];
    client.subscribe((event) => {
      if (event.type === "response") sent.push(event.url);
    });
    expect(await client.restore()).toBe(false);
    await expect(client.me()).rejects.toBeInstanceOf(NotAuthenticatedError);
    expect(sent).toEqual([]);
  });

  it("sends no request with the ended session's token once logout has started", async () => {
    const time = clock();
    const server = new FakeKeyward(time, { transport });
    server.addUser("alice", "tangerine-voyage-41");
    const { client } = tab(server, time, { store: sharedStore() });
    await client.login("alice", "tangerine-voyage-41");
    const sent: string[] = [];
    client.subscribe((event) => {
      if (event.type === "response") sent.push(`${event.method} ${new URL(event.url).pathname} ${event.status}`);
    });
    const logout = client.logout();
    const during = client.me().catch((e: unknown) => e);
    await logout;
    expect(await during).toBeInstanceOf(NotAuthenticatedError);
    expect(sent).toEqual(["POST /api/token/blacklist/ 200"]);
  });

  it("lets this tab's requests in flight finish before logging out", async () => {
    const time = clock();
    const server = new FakeKeyward(time, { transport });
    server.addUser("alice", "tangerine-voyage-41");
    const { client } = tab(server, time, { store: sharedStore() });
    await client.login("alice", "tangerine-voyage-41");
    let release: () => void = () => undefined;
    server.meGate = new Promise((resolve) => (release = resolve));
    const call = client.me();
    const logout = client.logout();
    await settle();
    expect(server.handled).toEqual([]);
    release();
    await logout;
    expect(await call).toMatchObject({ username: "alice" });
    expect(server.handled).toEqual(["GET /api/me/", "POST /api/token/blacklist/"]);
  });

  it("says when it retries a request after a refresh", async () => {
    const clientTime = clock();
    const serverTime = clock();
    const server = new FakeKeyward(serverTime, { transport, accessLifetime: 60 });
    server.addUser("alice", "tangerine-voyage-41");
    const { client } = tab(server, clientTime);
    const retries: string[] = [];
    client.subscribe((event) => {
      if (event.type === "retry") retries.push(`${event.method} ${new URL(event.url).pathname}`);
    });
    await client.login("alice", "tangerine-voyage-41");
    await client.me();
    expect(retries).toEqual([]);
    serverTime.advance(61_000);
    await client.me();
    expect(retries).toEqual(["GET /api/me/"]);
  });

  it("restores the session of an earlier page load", async () => {
    const time = clock();
    const server = new FakeKeyward(time, { transport });
    server.addUser("alice", "tangerine-voyage-41");
    const store = sharedStore();
    const first = tab(server, time, { store });
    await first.client.login("alice", "tangerine-voyage-41");
    first.client.close();

    const reloaded = tab(server, time, { store });
    expect(await reloaded.client.restore()).toBe(true);
    expect(await reloaded.client.me()).toMatchObject({ username: "alice" });

    await reloaded.client.logout();
    const again = tab(server, time, { store });
    expect(await again.client.restore()).toBe(false);
  });
});

describe("refresh timing", () => {
  it("refreshes on a timer shortly before the access token expires", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    const time: Clock = { now: () => Date.now(), advance: (ms) => vi.advanceTimersByTime(ms) };
    const server = new FakeKeyward(time, { accessLifetime: 300 });
    server.addUser("alice", "tangerine-voyage-41");
    const client = new KeywardClient({
      baseUrl: BASE,
      fetch: server.fetch,
      store: memoryStore(),
      locks: localLocks(),
      channel: null,
    });
    open.push(client);
    await client.login("alice", "tangerine-voyage-41");
    const first = client.accessToken;

    // 300 s less a second (iat is rounded down) less the 30 s margin: 269 s.
    await vi.advanceTimersByTimeAsync(268_900);
    expect(server.refreshes).toBe(0);
    await vi.advanceTimersByTimeAsync(200);
    expect(server.refreshes).toBe(1);
    expect(client.accessToken).not.toBe(first);
  });

  it("uses a quarter of a short lifetime as the margin", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    const time: Clock = { now: () => Date.now(), advance: (ms) => vi.advanceTimersByTime(ms) };
    const server = new FakeKeyward(time, { accessLifetime: 8 });
    server.addUser("alice", "tangerine-voyage-41");
    const client = new KeywardClient({
      baseUrl: BASE,
      fetch: server.fetch,
      store: memoryStore(),
      locks: localLocks(),
      channel: null,
    });
    open.push(client);
    await client.login("alice", "tangerine-voyage-41");
    // 8 s less a second, less a quarter of the 7 s: 5.25 s.
    await vi.advanceTimersByTimeAsync(5_150);
    expect(server.refreshes).toBe(0);
    await vi.advanceTimersByTimeAsync(200);
    expect(server.refreshes).toBe(1);
  });
});

describe("errors", () => {
  it("throws keyward's refusals as typed errors", async () => {
    const time = clock();
    const server = new FakeKeyward(time);
    server.addUser("alice", "tangerine-voyage-41");
    const { client } = tab(server, time);

    const wrong = await client.login("alice", "nope").catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(AuthenticationError);
    expect(wrong).toMatchObject({
      status: 401,
      detail: "No active account found with the given credentials",
      code: undefined,
    });

    const short = await client
      .signup({ username: "bob", email: "bob@example.com", password: "short" })
      .catch((e: unknown) => e);
    expect(short).toBeInstanceOf(ValidationError);
    expect((short as ValidationError).fields).toEqual({
      password: ["This password is too short. It must contain at least 8 characters."],
    });
  });
});
