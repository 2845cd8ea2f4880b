export {
  API_KEY_DISPLAY_PREFIX_LENGTH,
  API_KEY_PREFIX,
  authenticateApiKey,
  createApiKey,
  createUserWithKey,
  LAST_USED_RESOLUTION_MS,
  revokeApiKey,
  type Authenticated,
  type CreatedApiKey,
  type CreatedUser,
} from "./api-keys";
export { hasSecretShape, newSecret, sameDigest, SECRET_BYTES, sha256Hex } from "./secret";
export { ApiKeyCache, type ApiKeyCacheOptions } from "./api-key-cache";
export { assertScreenAccess, canActOnScreens } from "./screen-access";
