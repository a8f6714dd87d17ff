import { KeywardClient, type Transport } from "@keyward/client";

/** Set by /keyward-config.js (see public/keyward-config.js). */
interface Config {
  url?: string;
  transport?: Transport;
  pollMs?: number;
}

declare global {
  interface Window {
    KEYWARD_CONFIG?: Config;
    keyward?: KeywardClient;
  }
}

const config = window.KEYWARD_CONFIG ?? {};

export const pollMs = config.pollMs ?? 0;

/** The app's one keyward session, shared by every component (and visible to the console as
 * `window.keyward`). */
export const keyward = new KeywardClient({
  baseUrl: config.url ?? "http://localhost:8000",
  transport: config.transport ?? "body",
});
window.keyward = keyward;
