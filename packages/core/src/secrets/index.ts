// Users' secrets (HF_TOKEN, WANDB_API_KEY, their own): AES-256-GCM at rest under SECRETS_KEY / SECRETS_KEYS, never
// answered or logged, decrypted only into the env of the user's own pod at its launch.
export {
  DEVELOPMENT_KEY_ID,
  derivedKeyId,
  encryptingKey,
  parseKeyMaterial,
  parseSecretsKeyring,
  SECRETS_KEY_BYTES,
  secretsKeyring,
  type SecretsKeyring,
} from "./keyring";
export { openSecret, sealSecret, type SealedSecret, type SecretOwner } from "./cipher";
export {
  assertSecretNameAllowed,
  reservedSecretName,
  SECRET_VALUE_MAX_BYTES,
  secretInputSchema,
  type SecretInput,
} from "./secret-names";
export {
  assertStoredSecretKeys,
  deleteSecret,
  listSecrets,
  missingSecrets,
  reencryptSecrets,
  secretsForPod,
  setSecret,
  type SecretDeps,
  type SecretView,
} from "./secret-store";
export { resealRows, type ResealData, type ResealTable, type SealedRow } from "./reseal";
export { secretRequirementProblems, unknownSecretProblems } from "./secret-rules";
