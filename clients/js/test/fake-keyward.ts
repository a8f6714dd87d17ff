/**
 * A small stand-in for keyward's token endpoints, with keyward's rules where the client's
 * correctness depends on them: rotation with blacklist-after-rotation, and reuse detection (a
 * rotated refresh token presented again ends its whole session). Time is the test's clock.
 * The same client runs against the real server in `live.test.ts`.
 */

export interface Clock {
  now: () => number;
  advance: (ms: number) => void;
}

export function clock(start = Date.UTC(2026, 11, 4, 12)): Clock {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

interface Session {
  userId: number;
  current: string;
  ended: boolean;
}

export interface FakeOptions {
  transport?: "body" | "cookie";
  accessLifetime?: number;
}

export class FakeKeyward {
  readonly transport: "body" | "cookie";
  readonly accessLifetime: number;
  readonly sessions = new Map<string, Session>();
  /** The browser's cookie jar (one per browser: shared by its tabs). */
  jar: string | null = null;
  refreshes = 0;
  reuses = 0;
  /** When set, refresh answers wait for it: lets a test hold a refresh in flight. */
  gate: Promise<void> | null = null;
  /** The same for `GET /api/me/`. */
  meGate: Promise<void> | null = null;
  /** The requests handled, in order (`POST /api/token/blacklist/`). */
  readonly handled: string[] = [];
  private users = new Map<string, { id: number; password: string; email: string }>();
  private next = 1;

  constructor(
    private readonly clock: Clock,
    options: FakeOptions = {},
  ) {
    this.transport = options.transport ?? "body";
    this.accessLifetime = options.accessLifetime ?? 300;
  }

  addUser(username: string, password: string): void {
    this.users.set(username, { id: this.next++, password, email: `${username}@example.com` });
  }

  /** Ends every session (an administrator's "revoke all"). */
  revokeAll(): void {
    for (const session of this.sessions.values()) session.ended = true;
  }

  readonly fetch = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(String(input));
    const method = (init.method ?? "GET").toUpperCase();
    const body = typeof init.body === "string" ? (JSON.parse(init.body) as Record<string, string>) : {};
    const auth = new Headers(init.headers).get("authorization");
    await Promise.resolve();
    switch (`${method} ${url.pathname}`) {
      case "POST /api/token/":
        return this.obtain(body);
      case "POST /api/token/refresh/": {
        // A browser attaches the cookie when it sends the request.
        const raw = this.presented(body, init);
        if (this.gate) await this.gate;
        return this.refresh(raw);
      }
      case "POST /api/token/blacklist/":
        this.handled.push(`${method} ${url.pathname}`);
        return this.blacklist(body, init);
      case "POST /api/signup/":
        return this.signup(body);
      case "GET /api/me/":
        if (this.meGate) await this.meGate;
        this.handled.push(`${method} ${url.pathname}`);
        return this.me(auth);
      default:
        return json(404, { detail: "Not found." });
    }
  };

  private obtain(body: Record<string, string>): Response {
    const user = this.users.get(body.username ?? "");
    if (!user || user.password !== body.password) {
      return json(401, { detail: "No active account found with the given credentials" });
    }
    const sid = id();
    const refresh = this.token("refresh", user.id, sid, 86400);
    this.sessions.set(sid, { userId: user.id, current: claims(refresh).jti as string, ended: false });
    return this.pair(refresh, user.id, sid);
  }

  private refresh(raw: string | null): Response {
    this.refreshes += 1;
    if (raw === null) return json(400, { refresh: ["This field is required."] });
    const presented = claims(raw);
    const session = this.sessions.get(presented.sid as string);
    if (!session || session.ended) return blacklisted();
    if (presented.jti !== session.current) {
      this.reuses += 1;
      session.ended = true;
      return blacklisted();
    }
    const next = this.token("refresh", session.userId, presented.sid as string, 86400);
    session.current = claims(next).jti as string;
    return this.pair(next, session.userId, presented.sid as string);
  }

  private blacklist(body: Record<string, string>, init: RequestInit): Response {
    const raw = this.presented(body, init);
    if (raw === null) return json(400, { refresh: ["This field is required."] });
    const presented = claims(raw);
    const session = this.sessions.get(presented.sid as string);
    if (this.transport === "cookie") this.jar = null;
    if (!session || session.ended || presented.jti !== session.current) return blacklisted();
    session.ended = true;
    return json(200, {});
  }

  private signup(body: Record<string, string>): Response {
    if ((body.password ?? "").length < 8) {
      return json(400, {
        password: ["This password is too short. It must contain at least 8 characters."],
      });
    }
    this.addUser(body.username ?? "", body.password ?? "");
    return json(201, { id: this.next - 1, username: body.username, email: body.email });
  }

  private me(auth: string | null): Response {
    const token = auth?.startsWith("Bearer ") ? auth.slice(7) : null;
    if (!token) return json(401, { detail: "Authentication credentials were not provided." });
    const c = claims(token);
    const session = this.sessions.get(c.sid as string);
    const message =
      (c.exp as number) * 1000 <= this.clock.now()
        ? "Token is expired"
        : !session || session.ended
          ? "Token is blacklisted"
          : null;
    if (message) {
      return json(401, {
        detail: "Given token not valid for any token type",
        code: "token_not_valid",
        messages: [{ token_class: "AccessToken", token_type: "access", message }],
      });
    }
    const username = [...this.users].find(([, u]) => u.id === c.user_id)?.[0];
    return json(200, { id: c.user_id, username });
  }

  private presented(body: Record<string, string>, init: RequestInit): string | null {
    if (this.transport === "cookie") {
      return init.credentials === "include" ? this.jar : null;
    }
    return body.refresh ?? null;
  }

  private pair(refresh: string, userId: number, sid: string): Response {
    const access = this.token("access", userId, sid, this.accessLifetime);
    if (this.transport === "cookie") {
      this.jar = refresh;
      return json(200, { access });
    }
    return json(200, { refresh, access });
  }

  private token(type: string, userId: number, sid: string, lifetime: number): string {
    const iat = Math.floor(this.clock.now() / 1000);
    const payload = { token_type: type, exp: iat + lifetime, iat, jti: id(), user_id: userId, sid };
    return `${b64({ typ: "JWT", alg: "HS256" })}.${b64(payload)}.signature`;
  }
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

function blacklisted(): Response {
  return json(401, { detail: "Token is blacklisted", code: "token_not_valid" });
}

function claims(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as Record<
    string,
    unknown
  >;
}

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

let counter = 0;
function id(): string {
  counter += 1;
  return `${counter.toString(16).padStart(8, "0")}${Math.random().toString(16).slice(2, 10)}`;
}
