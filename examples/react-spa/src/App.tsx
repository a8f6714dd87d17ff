import {
  type KeywardEvent,
  KeywardError,
  type User,
  ValidationError,
} from "@keyward/client";
import { type FormEvent, useCallback, useEffect, useState } from "react";

import { keyward, pollMs } from "./keyward";

type Page = "signup" | "login" | "me";
type Session = "loading" | "signed-in" | "signed-out";

function pageOf(hash: string): Page {
  const page = hash.replace(/^#\/?/, "");
  return page === "signup" || page === "login" ? page : "me";
}

function go(page: Page): void {
  window.location.hash = `#/${page}`;
}

/** What this tab saw: every answer keyward gave, and every refresh. */
interface Stats {
  requests: number;
  /** Answers that were not a success (or no answer). */
  failures: number;
  /** Of those, `401 token_not_valid` answers the client recovered from: it refreshed and sent
   * the request again (an access token that expired while the request was on its way). */
  retried: number;
  refreshes: number;
  adopted: number;
  log: string[];
}

const noStats: Stats = { requests: 0, failures: 0, retried: 0, refreshes: 0, adopted: 0, log: [] };

function count(stats: Stats, event: KeywardEvent): Stats {
  const time = new Date().toISOString().slice(11, 23);
  switch (event.type) {
    case "response": {
      const failed = event.status === 0 || event.status >= 400;
      const path = new URL(event.url).pathname;
      return {
        ...stats,
        requests: stats.requests + 1,
        failures: stats.failures + (failed ? 1 : 0),
        log: [`${time} ${event.method} ${path} ${event.status || "network error"}`, ...stats.log].slice(0, 50),
      };
    }
    case "retry":
      return {
        ...stats,
        retried: stats.retried + 1,
        log: [`${time} retrying ${event.method} ${new URL(event.url).pathname} after a refresh`, ...stats.log].slice(0, 50),
      };
    case "refreshed":
      return {
        ...stats,
        refreshes: stats.refreshes + (event.by === "this-tab" ? 1 : 0),
        adopted: stats.adopted + (event.by === "other-tab" ? 1 : 0),
        log: [`${time} tokens refreshed by ${event.by}`, ...stats.log].slice(0, 50),
      };
    default:
      return { ...stats, log: [`${time} ${event.type}`, ...stats.log].slice(0, 50) };
  }
}

export function App() {
  const [page, setPage] = useState<Page>(pageOf(window.location.hash));
  const [session, setSession] = useState<Session>("loading");
  const [stats, setStats] = useState<Stats>(noStats);

  useEffect(() => {
    const onHash = () => setPage(pageOf(window.location.hash));
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);

  useEffect(() => {
    const unsubscribe = keyward.subscribe((event) => {
      setStats((stats) => count(stats, event));
      if (event.type === "signed-in") setSession("signed-in");
      if (event.type === "signed-out") setSession("signed-out");
    });
    keyward
      .restore()
      .then((restored) => setSession(restored ? "signed-in" : "signed-out"))
      .catch(() => setSession("signed-out"));
    return unsubscribe;
  }, []);

  const logout = useCallback(() => {
    keyward.logout().finally(() => go("login"));
  }, []);

  return (
    <>
      <header>
        <strong>keyward example</strong>
        <a href="#/me">Protected page</a>
        {session === "signed-out" && <a href="#/login">Log in</a>}
        {session === "signed-out" && <a href="#/signup">Sign up</a>}
        <span className="who" id="session" data-state={session}>
          {session === "signed-in" ? "Signed in" : session === "loading" ? "…" : "Signed out"}
        </span>
        {session === "signed-in" && (
          <button id="logout" className="secondary" onClick={logout}>
            Log out
          </button>
        )}
      </header>
      <main>
        {session === "loading" && <p>Loading…</p>}
        {session !== "loading" && page === "signup" && <SignUp />}
        {session !== "loading" && page === "login" && <LogIn signedIn={session === "signed-in"} />}
        {session !== "loading" && page === "me" && <Protected signedIn={session === "signed-in"} />}
        <SessionLog stats={stats} />
      </main>
    </>
  );
}

function messageOf(error: unknown): string {
  if (error instanceof ValidationError) {
    return Object.entries(error.fields)
      .map(([field, messages]) => `${field}: ${messages.join(" ")}`)
      .join("; ") || error.message;
  }
  if (error instanceof KeywardError) return error.detail ?? error.message;
  return String(error);
}

function SignUp() {
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const username = String(form.get("username"));
    const password = String(form.get("password"));
    try {
      await keyward.signup({ username, email: String(form.get("email")), password });
      await keyward.login(username, password);
      go("me");
    } catch (e) {
      setError(messageOf(e));
    }
  };
  return (
    <form onSubmit={submit}>
      <h1>Sign up</h1>
      <label>
        Username <input id="username" name="username" autoComplete="username" required />
      </label>
      <label>
        Email <input id="email" name="email" type="email" autoComplete="email" required />
      </label>
      <label>
        Password
        <input id="password" name="password" type="password" autoComplete="new-password" required />
      </label>
      {error && <p className="error" id="error">{error}</p>}
      <button id="signup" type="submit">Sign up</button>
    </form>
  );
}

function LogIn({ signedIn }: { signedIn: boolean }) {
  const [error, setError] = useState<string | null>(null);
  if (signedIn) {
    return <p className="notice">You are signed in. <a href="#/me">Go to the protected page</a>.</p>;
  }
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    try {
      await keyward.login(String(form.get("username")), String(form.get("password")));
      go("me");
    } catch (e) {
      setError(messageOf(e));
    }
  };
  return (
    <form onSubmit={submit}>
      <h1>Log in</h1>
      <label>
        Username <input id="username" name="username" autoComplete="username" required />
      </label>
      <label>
        Password
        <input id="password" name="password" type="password" autoComplete="current-password" required />
      </label>
      {error && <p className="error" id="error">{error}</p>}
      <button id="login" type="submit">Log in</button>
    </form>
  );
}

function Protected({ signedIn }: { signedIn: boolean }) {
  const [user, setUser] = useState<User | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [calls, setCalls] = useState(0);

  const load = useCallback(() => {
    keyward
      .me()
      .then((me) => {
        setUser(me);
        setError(null);
        setCalls((n) => n + 1);
      })
      .catch((e: unknown) => setError(messageOf(e)));
  }, []);

  useEffect(() => {
    if (!signedIn) return;
    load();
    if (pollMs <= 0) return;
    const timer = setInterval(load, pollMs);
    return () => clearInterval(timer);
  }, [signedIn, load]);

  if (!signedIn) {
    return (
      <p>
        This page needs a session: <a href="#/login">log in</a> or <a href="#/signup">sign up</a>.
      </p>
    );
  }
  return (
    <section>
      <h1>Protected page</h1>
      {user && (
        <dl id="me">
          <dt>Username</dt>
          <dd id="me-username">{user.username}</dd>
          <dt>Email</dt>
          <dd>{user.email}</dd>
          <dt>Joined</dt>
          <dd>{user.date_joined}</dd>
          <dt>Calls to /api/me/</dt>
          <dd id="me-calls">{calls}</dd>
        </dl>
      )}
      {error && <p className="error" id="error">{error}</p>}
      <button id="reload-me" className="secondary" onClick={load}>
        Call /api/me/ again
      </button>
    </section>
  );
}

function SessionLog({ stats }: { stats: Stats }) {
  return (
    <section>
      <h2>This tab</h2>
      <p>
        Requests <span id="requests">{stats.requests}</span>, failed{" "}
        <span id="failures">{stats.failures}</span> (recovered by a refresh and a retry:{" "}
        <span id="retried">{stats.retried}</span>); refreshes made{" "}
        <span id="refreshes">{stats.refreshes}</span>, received from another tab{" "}
        <span id="adopted">{stats.adopted}</span>.
      </p>
      <div className="log" id="log">
        {stats.log.map((line, i) => (
          <div key={i}>{line}</div>
        ))}
      </div>
    </section>
  );
}
