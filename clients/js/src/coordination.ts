/** Tabs of one app share one session: a lock lets one tab at a time refresh (or log out), and
 * a channel hands the new tokens to the others. */

/** The part of the Web Locks API used here (`navigator.locks`). */
export interface LockManagerLike {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
}

/** The part of `BroadcastChannel` used here. */
export interface ChannelLike {
  postMessage(message: unknown): void;
  addEventListener(type: "message", listener: (event: MessageEvent) => void): void;
  close(): void;
}

/** What one tab tells the others. */
export type TabMessage =
  | { type: "tokens"; access: string; refresh?: string; receivedAt: number }
  | { type: "logout" };

/** A lock for this tab alone, when the browser has no Web Locks: calls run one after another. */
export function localLocks(): LockManagerLike {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    request<T>(_name: string, callback: () => Promise<T>): Promise<T> {
      const run = tail.then(callback, callback);
      tail = run.catch(() => undefined);
      return run;
    },
  };
}

/** `navigator.locks` when the browser has it, else a lock for this tab. */
export function defaultLocks(): LockManagerLike {
  const locks = (globalThis.navigator as { locks?: LockManagerLike } | undefined)?.locks;
  return locks ?? localLocks();
}

/** A `BroadcastChannel` named `name` when the environment has one. */
export function defaultChannel(name: string): ChannelLike | null {
  return typeof BroadcastChannel === "function" ? new BroadcastChannel(name) : null;
}

/** Whether `value` is a message of this protocol. */
export function isTabMessage(value: unknown): value is TabMessage {
  const message = value as { type?: unknown; access?: unknown } | null;
  return (
    message !== null &&
    typeof message === "object" &&
    (message.type === "logout" || (message.type === "tokens" && typeof message.access === "string"))
  );
}
