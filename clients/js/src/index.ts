export {
  KeywardClient,
  type KeywardEvent,
  type KeywardOptions,
  type SignupFields,
  type Transport,
  type User,
} from "./client.js";
export {
  AuthenticationError,
  KeywardError,
  NetworkError,
  NotAuthenticatedError,
  NotFoundError,
  PermissionDeniedError,
  ServiceUnavailableError,
  ThrottledError,
  TokenNotValidError,
  ValidationError,
  errorFrom,
  errorFromResponse,
  type TokenClassMessage,
} from "./errors.js";
export { type TokenStore, indexedDbStore, localStore, memoryStore } from "./storage.js";
export {
  type ChannelLike,
  type LockManagerLike,
  type TabMessage,
  localLocks,
} from "./coordination.js";
export { claimsOf, timing, type AccessTiming } from "./tokens.js";
