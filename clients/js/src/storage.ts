/** Where the body transport keeps the refresh token between page loads (and the cookie
 * transport a note that a session cookie exists). Methods may return promises. */
export interface TokenStore {
  /** Whether the tabs of the app see the same store (then only the tab that received new
   * tokens from keyward writes them). */
  readonly shared?: boolean;
  get(): string | null | Promise<string | null>;
  set(value: string): void | Promise<void>;
  clear(): void | Promise<void>;
}

/**
 * In IndexedDB (database `database`, one entry per `key`): shared by the tabs of one origin,
 * kept across reloads, and consistent between tabs: a tab that takes the refresh lock after
 * another one wrote reads what it wrote. (`localStorage` is not: Chromium gives each tab's
 * process a copy that catches up later, so the next tab could send a rotated token, which
 * ends the session.) The default in browsers.
 */
export function indexedDbStore(key = "refresh", database = "keyward"): TokenStore {
  let opened: Promise<IDBDatabase> | null = null;
  const open = () => {
    opened ??= new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open(database, 1);
      request.onupgradeneeded = () => request.result.createObjectStore("tokens");
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    return opened;
  };
  const run = async <T>(
    mode: IDBTransactionMode,
    action: (store: IDBObjectStore) => IDBRequest<T>,
  ): Promise<T> => {
    const db = await open();
    return new Promise<T>((resolve, reject) => {
      const transaction = db.transaction("tokens", mode);
      const request = action(transaction.objectStore("tokens"));
      // Resolved once the transaction has committed: then every tab reads the new value.
      transaction.oncomplete = () => resolve(request.result);
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error);
    });
  };
  return {
    shared: true,
    get: async () => {
      const value = await run("readonly", (store) => store.get(key));
      return typeof value === "string" ? value : null;
    },
    set: async (value) => {
      await run("readwrite", (store) => store.put(value, key));
    },
    clear: async () => {
      await run("readwrite", (store) => store.delete(key));
    },
  };
}

/** In `localStorage` under `key`: kept across reloads. Any script of the page can read it (the
 * cookie transport keeps the token out of reach instead). Tabs may read a stale value for a
 * moment after another tab wrote, so prefer {@link indexedDbStore} when several tabs refresh. */
export function localStore(key = "keyward.refresh"): TokenStore {
  return {
    get: () => globalThis.localStorage?.getItem(key) ?? null,
    set: (value) => globalThis.localStorage?.setItem(key, value),
    clear: () => globalThis.localStorage?.removeItem(key),
  };
}

/** In memory only: gone on reload, and not shared between tabs (new tokens still reach the
 * other tabs through the channel). */
export function memoryStore(): TokenStore {
  let value: string | null = null;
  return {
    get: () => value,
    set: (next) => {
      value = next;
    },
    clear: () => {
      value = null;
    },
  };
}

/** The default store: IndexedDB in browsers, else memory. */
export function defaultStore(baseUrl: string): TokenStore {
  return typeof indexedDB === "undefined" ? memoryStore() : indexedDbStore(baseUrl);
}
