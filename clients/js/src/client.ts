import {
  type ChannelLike,
  type LockManagerLike,
  type TabMessage,
  defaultChannel,
  defaultLocks,
  isTabMessage,
} from "./coordination.js";
import {
  AuthenticationError,
  NetworkError,
  NotAuthenticatedError,
  ValidationError,
  errorFromResponse,
} from "./errors.js";
import { type TokenStore, defaultStore } from "./storage.js";
import { type AccessTiming, timing } from "./tokens.js";

/** How the refresh token travels: in the JSON bodies (simplejwt's wire, keyward's default) or
 * in keyward's HttpOnly cookie (`token_transport = "cookie"`). */
export type Transport = "body" | "cookie";

/** A user as keyward shows one (`GET /api/me/`, `POST /api/signup/`). */
export interface User {
  id: number;
  username: string;
  email: string;
  first_name: string;
  last_name: string;
  is_active: boolean;
  is_staff: boolean;
  is_superuser: boolean;
  date_joined: string;
  last_login: string | null;
  groups: string[];
  permissions: string[];
}

export interface SignupFields {
  username: string;
  email: string;
  password: string;
}

/** What happened, for the page to follow (see {@link KeywardClient.subscribe}). */
export type KeywardEvent =
  | { type: "signed-in" }
  | { type: "refreshed"; by: "this-tab" | "other-tab" }
  | { type: "signed-out"; reason: "logout" | "expired" }
  | { type: "response"; method: string; url: string; status: number }
  /** A `401 token_not_valid` answer was followed by a refresh, and the request is sent again. */
  | { type: "retry"; method: string; url: string };

export interface KeywardOptions {
  /** keyward's address, e.g. `https://auth.example.com` or `http://localhost:8000`. */
  baseUrl: string;
  /** Must match keyward's `token_transport`. Default `"body"`. */
  transport?: Transport;
  /** Where the body transport keeps the refresh token, and the cookie transport a note that a
   * session cookie was set (so that a page load without a session sends nothing). Default:
   * IndexedDB (shared by the tabs, consistent between them, kept across reloads) when there
   * is one, else memory. */
  store?: TokenStore;
  /** Refresh this many seconds before the access token expires (at most a quarter of its
   * lifetime). Default 30. */
  refreshMargin?: number;
  /** Refresh on a timer before expiry (besides on demand and on a 401). Default true. */
  autoRefresh?: boolean;
  /** Default: the global `fetch`. */
  fetch?: typeof fetch;
  /** Default: `navigator.locks` (one tab at a time refreshes), else a lock for this tab. */
  locks?: LockManagerLike;
  /** Default: a `BroadcastChannel` (new tokens reach the other tabs); `null` for none. */
  channel?: ChannelLike | null;
  /** Milliseconds since the epoch. Default `Date.now`. */
  now?: () => number;
}

/** The longest delay `setTimeout` takes. */
const MAX_DELAY = 2 ** 31 - 1;

/** What the store holds with the cookie transport: not a token, only "a cookie was set". */
const COOKIE_SESSION = "cookie";

/** How long logout waits for this tab's requests in flight. */
const LOGOUT_WAIT = 5000;

/**
 * A keyward session for a browser app. The access token lives in memory; the refresh token in
 * keyward's HttpOnly cookie (cookie transport) or in the {@link TokenStore} (body transport).
 *
 * Refreshing never logs a user out under rotation with blacklist-after-rotation: concurrent
 * calls in a tab share one refresh, a lock lets one tab at a time refresh, always with the
 * newest refresh token, and the new tokens are handed to the other tabs.
 */
export class KeywardClient {
  readonly transport: Transport;
  readonly baseUrl: string;
  private readonly store: TokenStore;
  private readonly margin: number;
  private readonly autoRefresh: boolean;
  private readonly http: typeof fetch;
  private readonly locks: LockManagerLike;
  private readonly channel: ChannelLike | null;
  private readonly now: () => number;
  private readonly lockName: string;
  private readonly listeners = new Set<(event: KeywardEvent) => void>();
  private access: string | null = null;
  private accessTiming: AccessTiming | null = null;
  /** Bumped whenever the tokens are replaced or dropped. */
  private generation = 0;
  private inflight: Promise<void> | null = null;
  /** Requests in flight with the access token. */
  private readonly pending = new Set<Promise<unknown>>();
  /** Set while logout runs: nothing refreshes meanwhile. */
  private signingOut = false;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: KeywardOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.transport = options.transport ?? "body";
    this.store = options.store ?? defaultStore(this.baseUrl);
    this.margin = options.refreshMargin ?? 30;
    this.autoRefresh = options.autoRefresh ?? true;
    this.http = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.locks = options.locks ?? defaultLocks();
    this.now = options.now ?? Date.now;
    this.lockName = `keyward:${this.baseUrl}`;
    this.channel =
      options.channel === undefined ? defaultChannel(`keyward:${this.baseUrl}`) : options.channel;
    this.channel?.addEventListener("message", (event) => this.onTabMessage(event.data));
  }

  /** Whether this tab holds an access token. */
  get isAuthenticated(): boolean {
    return this.access !== null;
  }

  /** The current access token (memory only), or `null`. */
  get accessToken(): string | null {
    return this.access;
  }

  /** Calls `listener` on every {@link KeywardEvent}; returns the unsubscribe function. */
  subscribe(listener: (event: KeywardEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** At page load: picks up the session of an earlier visit or another tab, if there is one.
   * Resolves `true` when signed in. */
  async restore(): Promise<boolean> {
    if (this.access !== null) return true;
    if ((await this.store.get()) === null) return false;
    try {
      await this.refresh();
    } catch (error) {
      if (error instanceof AuthenticationError) return false;
      throw error;
    }
    return this.access !== null;
  }

  /** Signs in (`POST /api/token/`). Throws {@link AuthenticationError} for wrong credentials,
   * {@link ThrottledError} after too many. The other tabs are signed in too. */
  async login(username: string, password: string): Promise<void> {
    await this.locks.request(this.lockName, async () => {
      const pair = await this.call<TokenAnswer>("POST", "/api/token/", { username, password });
      await this.adopt(pair, this.now(), true);
    });
    this.emit({ type: "signed-in" });
  }

  /** Creates an account (`POST /api/signup/`); does not sign in. Throws
   * {@link ValidationError} with the refused fields. */
  signup(fields: SignupFields): Promise<User> {
    return this.call<User>("POST", "/api/signup/", fields);
  }

  /** Ends the session (`POST /api/token/blacklist/`) in every tab, once this tab's requests in
   * flight are answered (at most 5 s). The local state is dropped even if keyward cannot be
   * reached (that error is then thrown). */
  async logout(): Promise<void> {
    let failure: unknown;
    // No request of this tab goes out with the session's tokens from now on.
    this.access = null;
    this.generation += 1;
    this.signingOut = true;
    try {
      await settled([...this.pending], LOGOUT_WAIT);
      await this.locks.request(this.lockName, async () => {
        const refresh = await this.store.get();
        if (refresh === null) return;
        try {
          await this.call("POST", "/api/token/blacklist/", this.refreshBody(refresh));
        } catch (error) {
          // Already ended (401) is what logout wanted.
          if (!(error instanceof AuthenticationError)) failure = error;
        }
      });
      await this.end("logout", true, true);
    } finally {
      this.signingOut = false;
    }
    if (failure !== undefined) throw failure;
  }

  /** The signed-in user (`GET /api/me/`). */
  me(): Promise<User> {
    return this.request<User>("/api/me/");
  }

  /** Changes the password (`POST /api/me/password/`); keyward ends every other session of the
   * user and answers a new pair for this one. */
  async changePassword(currentPassword: string, newPassword: string): Promise<void> {
    await this.locks.request(this.lockName, async () => {
      const pair = await this.request<TokenAnswer>("/api/me/password/", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ current_password: currentPassword, new_password: newPassword }),
      });
      await this.adopt(pair, this.now(), true);
    });
  }

  /** An authenticated request whose JSON answer is returned; a non-2xx answer is thrown as a
   * typed `KeywardError`. */
  async request<T>(path: string, init: RequestInit = {}): Promise<T> {
    const response = await this.fetch(path, init);
    if (!response.ok) throw await errorFromResponse(response);
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }

  /**
   * `fetch` with the access token. A path (`/api/me/`) is resolved against `baseUrl`. A stale
   * token is refreshed first; a `401 token_not_valid` answer is refreshed and retried once
   * (so give a body that can be sent twice: a string, `FormData`, ...). When the session has
   * ended, the 401 is returned as it came and the client is signed out.
   */
  async fetch(input: string, init: RequestInit = {}): Promise<Response> {
    if (this.access === null || this.isStale()) await this.refresh();
    const seen = this.generation;
    const response = await this.send(input, init, this.access);
    if (response.status !== 401 || !(await isTokenNotValid(response))) return response;
    try {
      await this.refresh(seen);
    } catch (error) {
      if (error instanceof AuthenticationError) return response;
      throw error;
    }
    this.emit({ type: "retry", method: (init.method ?? "GET").toUpperCase(), url: this.resolve(input) });
    return this.send(input, init, this.access);
  }

  /**
   * Replaces the tokens now. Concurrent calls share one refresh; across tabs, one refreshes
   * at a time with the newest refresh token, and a tab that received new tokens while it
   * waited does not refresh again. Throws {@link NotAuthenticatedError} (or the refusal) when
   * there is no session to refresh; the client is then signed out.
   */
  refresh(seen: number = this.generation): Promise<void> {
    if (this.inflight === null) {
      this.inflight = this.refreshOnce(seen).finally(() => {
        this.inflight = null;
      });
    }
    return this.inflight;
  }

  /** Stops the timer and leaves the channel. */
  close(): void {
    clearTimeout(this.timer);
    this.channel?.close();
    this.listeners.clear();
  }

  private async refreshOnce(seen: number): Promise<void> {
    if (this.signingOut) throw new NotAuthenticatedError("signing out");
    await this.locks.request(this.lockName, async () => {
      // New tokens arrived while this call waited (from another tab, or an earlier call).
      if (this.generation !== seen && this.access !== null && !this.isStale()) return;
      // The newest refresh token (or, with cookies, whether there is a session cookie at all).
      const refresh = await this.store.get();
      if (refresh === null) {
        await this.end("expired", false);
        throw new NotAuthenticatedError();
      }
      let pair: TokenAnswer;
      try {
        pair = await this.call<TokenAnswer>(
          "POST",
          "/api/token/refresh/",
          this.refreshBody(refresh),
        );
      } catch (error) {
        // No session to refresh: refused (401), or no cookie at all (400). It is over in every
        // tab.
        if (error instanceof AuthenticationError || error instanceof ValidationError) {
          await this.end("expired", true);
        }
        if (error instanceof ValidationError) throw new NotAuthenticatedError();
        throw error;
      }
      await this.adopt(pair, this.now(), true);
      this.emit({ type: "refreshed", by: "this-tab" });
    });
  }

  private refreshBody(refresh: string | null): { refresh: string } | undefined {
    return this.transport === "body" && refresh !== null ? { refresh } : undefined;
  }

  private isStale(): boolean {
    return this.accessTiming === null || this.now() >= this.accessTiming.refreshAt;
  }

  /** Takes new tokens: from keyward (`announce`: store them, then tell the other tabs) or from
   * another tab (which stored them already, when the store is shared). */
  private async adopt(pair: TokenAnswer, receivedAt: number, announce: boolean): Promise<void> {
    this.access = pair.access;
    this.accessTiming = timing(pair.access, receivedAt, this.margin);
    this.generation += 1;
    this.schedule();
    const kept = this.transport === "body" ? pair.refresh : COOKIE_SESSION;
    if (kept !== undefined && (announce || !this.store.shared)) await this.store.set(kept);
    if (announce) {
      this.post({ type: "tokens", access: pair.access, refresh: pair.refresh, receivedAt });
    }
  }

  /** Drops the session; `announce`: clear the store and tell the other tabs. */
  private async end(
    reason: "logout" | "expired",
    announce: boolean,
    signedIn = this.access !== null,
  ): Promise<void> {
    this.access = null;
    this.accessTiming = null;
    this.generation += 1;
    clearTimeout(this.timer);
    if (announce || !this.store.shared) await this.store.clear();
    if (announce) this.post({ type: "logout" });
    if (signedIn) this.emit({ type: "signed-out", reason });
  }

  private schedule(): void {
    clearTimeout(this.timer);
    if (!this.autoRefresh || this.accessTiming === null) return;
    const delay = this.accessTiming.refreshAt - this.now();
    if (!Number.isFinite(delay)) return;
    const seen = this.generation;
    this.timer = setTimeout(
      () => {
        this.refresh(seen).catch(() => undefined);
      },
      Math.min(Math.max(0, delay), MAX_DELAY),
    );
  }

  private onTabMessage(message: unknown): void {
    if (!isTabMessage(message)) return;
    if (message.type === "logout") {
      void this.end("logout", false);
      return;
    }
    if (this.accessTiming !== null && message.receivedAt < this.accessTiming.receivedAt) return;
    const signedIn = this.access !== null;
    void this.adopt({ access: message.access, refresh: message.refresh }, message.receivedAt, false);
    this.emit(signedIn ? { type: "refreshed", by: "other-tab" } : { type: "signed-in" });
  }

  private post(message: TabMessage): void {
    try {
      this.channel?.postMessage(message);
    } catch {
      // A closed channel: the other tabs catch up at their next refresh.
    }
  }

  private emit(event: KeywardEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch {
        // A listener's failure is the page's business, not the session's.
      }
    }
  }

  /** A JSON call to keyward without the access token; non-2xx answers are thrown, typed. */
  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { "content-type": "application/json" };
    }
    const response = await this.send(path, init, null);
    if (!response.ok) throw await errorFromResponse(response);
    return (await response.json()) as T;
  }

  /** `input` as a URL: a path is resolved against `baseUrl`. */
  private resolve(input: string): string {
    return /^[a-z][a-z0-9+.-]*:/i.test(input) ? input : this.baseUrl + input;
  }

  private async send(input: string, init: RequestInit, access: string | null): Promise<Response> {
    const url = this.resolve(input);
    const headers = new Headers(init.headers);
    if (access !== null) headers.set("authorization", `Bearer ${access}`);
    const ours = url.startsWith(`${this.baseUrl}/`);
    const credentials: RequestCredentials | undefined =
      ours && this.transport === "cookie" ? "include" : init.credentials;
    const method = (init.method ?? "GET").toUpperCase();
    let response: Response;
    const request = this.http(url, { ...init, headers, credentials });
    if (access !== null) {
      this.pending.add(request);
      void request.catch(() => undefined).finally(() => this.pending.delete(request));
    }
    try {
      response = await request;
    } catch (cause) {
      this.emit({ type: "response", method, url, status: 0 });
      throw new NetworkError(cause);
    }
    this.emit({ type: "response", method, url, status: response.status });
    return response;
  }
}

/** keyward's answer to a sign-in or refresh: `refresh` is absent with cookie transport (and
 * without rotation). */
interface TokenAnswer {
  access: string;
  refresh?: string;
}

/** Waits until every promise has settled, or `ms` has passed. */
async function settled(promises: Promise<unknown>[], ms: number): Promise<void> {
  if (promises.length === 0) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  await Promise.race([Promise.allSettled(promises), timeout]);
  clearTimeout(timer);
}

async function isTokenNotValid(response: Response): Promise<boolean> {
  const body: unknown = await response
    .clone()
    .json()
    .catch(() => undefined);
  return (body as { code?: unknown } | undefined)?.code === "token_not_valid";
}
