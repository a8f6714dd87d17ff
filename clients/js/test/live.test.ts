/**
 * The client against a real keyward (`KEYWARD_BIN`, e.g. `target/debug/keyward`; CI sets it),
 * with both transports. Node's `fetch` has no cookie jar, so the cookie transport runs through
 * a small browser-like one that keeps cookies by path and sends the page's `Origin`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import {
  AuthenticationError,
  KeywardClient,
  type KeywardEvent,
  PermissionDeniedError,
  type TokenStore,
  ValidationError,
  localLocks,
  memoryStore,
} from "../src/index.js";

const bin = process.env.KEYWARD_BIN;
const PAGE = "http://localhost:5173";
const PASSWORD = "tangerine-voyage-41";

if (!bin) {
  console.warn("*** LIVE CLIENT TESTS NOT RUN: set KEYWARD_BIN=target/debug/keyward ***");
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

class Keyward {
  private constructor(
    readonly url: string,
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly log: string[],
  ) {}

  static async start(transport: "body" | "cookie"): Promise<Keyward> {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), "keyward-client-"));
    const env: NodeJS.ProcessEnv = {};
    for (const [name, value] of Object.entries(process.env)) {
      if (!name.startsWith("KEYWARD_")) env[name] = value;
    }
    Object.assign(env, {
      KEYWARD_BIND: `127.0.0.1:${port}`,
      KEYWARD_DATABASE_URL: `sqlite://${join(dir, "keyward.db")}`,
      KEYWARD_CREATE_DEFAULT_SUPERUSER: "false",
      KEYWARD_BCRYPT_COST: "4",
      KEYWARD_ACCESS_TOKEN_LIFETIME: "2",
      KEYWARD_CORS_ALLOWED_ORIGINS: `[${PAGE}]`,
      KEYWARD_TOKEN_TRANSPORT: transport,
      KEYWARD_REFRESH_COOKIE_SECURE: "false",
    });
    const child = spawn(bin as string, ["serve"], { env, stdio: ["ignore", "pipe", "pipe"] });
    const log: string[] = [];
    child.stdout?.on("data", (d: Buffer) => log.push(d.toString()));
    child.stderr?.on("data", (d: Buffer) => log.push(d.toString()));
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 300; i += 1) {
      if (child.exitCode !== null) break;
      const up = await fetch(`${url}/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (up) return new Keyward(url, child, dir, log);
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill();
    throw new Error(`keyward did not start: ${log.join("")}`);
  }

  stop(): void {
    this.child.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** `fetch` as a page of `origin` sees it: the browser adds `Origin` and keeps cookies. */
function browserFetch(origin: string): typeof fetch {
  const jar = new Map<string, { name: string; value: string; path: string }>();
  return async (input, init = {}) => {
    const url = new URL(String(input));
    const headers = new Headers(init.headers);
    headers.set("origin", origin);
    const withCookies = init.credentials === "include";
    if (withCookies) {
      const sent = [...jar.values()].filter(
        (c) => url.pathname === c.path || url.pathname.startsWith(`${c.path}/`),
      );
      if (sent.length > 0) headers.set("cookie", sent.map((c) => `${c.name}=${c.value}`).join("; "));
    }
    const response = await fetch(url, { ...init, headers });
    if (withCookies) {
      for (const line of response.headers.getSetCookie()) {
        const [pair = "", ...attributes] = line.split(";").map((p) => p.trim());
        const [name = "", value = ""] = pair.split("=");
        const path = attributes.find((a) => a.startsWith("Path="))?.slice(5) ?? "/";
        const gone = attributes.includes("Max-Age=0") || value === "";
        if (gone) jar.delete(`${name} ${path}`);
        else jar.set(`${name} ${path}`, { name, value, path });
      }
    }
    return response;
  };
}

function sharedStore(): TokenStore {
  return { ...memoryStore(), shared: true };
}

describe.skipIf(!bin).each(["body", "cookie"] as const)("a real keyward, %s transport", (transport) => {
  let keyward: Keyward;
  const clients: KeywardClient[] = [];

  beforeAll(async () => {
    keyward = await Keyward.start(transport);
  }, 60_000);

  afterAll(() => {
    for (const client of clients) client.close();
    keyward?.stop();
  });

  function tab(options: { fetch: typeof fetch; store: TokenStore; channel?: string; locks?: ReturnType<typeof localLocks> }) {
    const client = new KeywardClient({
      baseUrl: keyward.url,
      transport,
      fetch: options.fetch,
      store: options.store,
      locks: options.locks ?? localLocks(),
      channel: options.channel ? new BroadcastChannel(options.channel) : null,
    });
    clients.push(client);
    return client;
  }

  it("signs up, signs in, calls /api/me/ and logs out, with keyward's errors typed", async () => {
    const browser = browserFetch(PAGE);
    const client = tab({ fetch: browser, store: sharedStore() });

    const short = await client
      .signup({ username: "alice", email: "alice@example.com", password: "short" })
      .catch((e: unknown) => e);
    expect(short).toBeInstanceOf(ValidationError);
    expect((short as ValidationError).fields.password?.length).toBeGreaterThan(0);

    const user = await client.signup({ username: "alice", email: "alice@example.com", password: PASSWORD });
    expect(user).toMatchObject({ username: "alice", email: "alice@example.com" });

    const wrong = await client.login("alice", "not-the-password").catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(AuthenticationError);
    expect((wrong as AuthenticationError).detail).toBe(
      "No active account found with the given credentials",
    );

    await client.login("alice", PASSWORD);
    expect(await client.me()).toMatchObject({ username: "alice" });
    await client.logout();
    expect(client.isAuthenticated).toBe(false);
    expect(await tab({ fetch: browser, store: sharedStore() }).restore()).toBe(false);
  });

  it("keeps two tabs signed in across several access token expiries", async () => {
    const browser = browserFetch(PAGE); // one browser: one cookie jar
    const store = sharedStore(); // and one localStorage
    const locks = localLocks(); // and one navigator.locks
    const channel = `live-${transport}-${Math.random()}`;
    const a = tab({ fetch: browser, store, locks, channel });
    const b = tab({ fetch: browser, store, locks, channel });
    await a.signup({ username: "bob", email: "bob@example.com", password: PASSWORD });
    await a.login("bob", PASSWORD);
    expect(await b.restore()).toBe(true);

    const statuses: number[] = [];
    const refreshes: KeywardEvent[] = [];
    for (const client of [a, b]) {
      client.subscribe((event) => {
        if (event.type === "response") statuses.push(event.status);
        if (event.type === "refreshed") refreshes.push(event);
      });
    }
    const until = Date.now() + 5_000; // 2 s tokens: refreshed about every 1.5 s
    while (Date.now() < until) {
      const users = await Promise.all([a.me(), b.me()]);
      expect(users.map((u) => u.username)).toEqual(["bob", "bob"]);
      await new Promise((r) => setTimeout(r, 200));
    }
    // And both tabs asked at the very same moment.
    await Promise.all([a.refresh(), b.refresh()]);
    expect(await b.me()).toMatchObject({ username: "bob" });

    expect(statuses.filter((s) => s >= 400)).toEqual([]);
    expect(refreshes.filter((e) => e.type === "refreshed" && e.by === "this-tab").length).toBeGreaterThanOrEqual(3);
    await a.logout();
    await new Promise((r) => setTimeout(r, 50));
    expect(b.isAuthenticated).toBe(false);
  }, 30_000);

  it.runIf(transport === "cookie")("is refused as a page of an unlisted origin", async () => {
    const client = tab({ fetch: browserFetch("http://localhost:5174"), store: sharedStore() });
    await tab({ fetch: browserFetch(PAGE), store: sharedStore() }).signup({
      username: "carol",
      email: "carol@example.com",
      password: PASSWORD,
    });
    const refused = await client.login("carol", PASSWORD).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PermissionDeniedError);
    expect(refused).toMatchObject({ status: 403, code: "csrf_failed" });
  });
});
