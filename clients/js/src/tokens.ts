/** Reading the times of an access token keyward issued (the client never checks signatures:
 * keyward does), and when to refresh it. */

/** When an access token was received and when it should be replaced. */
export interface AccessTiming {
  /** Local time (ms) the token was received. */
  receivedAt: number;
  /** Local time (ms) from which the token counts as stale and is refreshed first. */
  refreshAt: number;
}

/** The claims of a JWT, or `null` when it is not one. */
export function claimsOf(token: string): Record<string, unknown> | null {
  const part = token.split(".")[1];
  if (!part) return null;
  try {
    const base64 = part.replace(/-/g, "+").replace(/_/g, "/");
    const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
    const text = new TextDecoder().decode(
      Uint8Array.from(atob(padded), (c) => c.charCodeAt(0)),
    );
    const claims: unknown = JSON.parse(text);
    return claims !== null && typeof claims === "object" ? (claims as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * When to refresh a token received at `receivedAt`: after its lifetime (from `exp - iat`, so
 * the two clocks need not agree) less a margin of `marginSeconds`, at most a quarter of the
 * lifetime.
 */
export function timing(token: string, receivedAt: number, marginSeconds: number): AccessTiming {
  const claims = claimsOf(token);
  const exp = Number(claims?.exp);
  const iat = Number(claims?.iat);
  if (!Number.isFinite(exp) || !Number.isFinite(iat) || exp <= iat) {
    // Not a token we can read: use it until keyward refuses it.
    return { receivedAt, refreshAt: Number.POSITIVE_INFINITY };
  }
  // `iat` is in whole seconds, rounded down: the token may have been issued up to a second
  // later than it says, so count one second less.
  const lifetime = Math.max(exp - iat - 1, 0.1);
  const margin = Math.min(marginSeconds, lifetime / 4);
  return { receivedAt, refreshAt: receivedAt + (lifetime - margin) * 1000 };
}
