/** Where the body transport keeps the refresh token between page loads. */
export interface TokenStore {
  /** Whether the tabs of the app see the same store (then only the tab that received new
   * tokens from keyward writes them). */
  readonly shared?: boolean;
  get(): string | null;
  set(refresh: string): void;
  clear(): void;
}

/** In `localStorage` under `key`: shared by the tabs of one origin and kept across reloads.
 * Any script of the page can read it; the cookie transport keeps it out of reach instead. */
export function localStore(key = "keyward.refresh"): TokenStore {
  return {
    shared: true,
    get: () => globalThis.localStorage?.getItem(key) ?? null,
    set: (refresh) => globalThis.localStorage?.setItem(key, refresh),
    clear: () => globalThis.localStorage?.removeItem(key),
  };
}

/** In memory only: gone on reload, and not shared between tabs (each tab should then sign in
 * on its own). */
export function memoryStore(): TokenStore {
  let value: string | null = null;
  return {
    get: () => value,
    set: (refresh) => {
      value = refresh;
    },
    clear: () => {
      value = null;
    },
  };
}
