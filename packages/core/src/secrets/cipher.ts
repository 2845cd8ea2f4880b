import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { AppError } from "../errors";
import { encryptingKey, type SecretsKeyring } from "./keyring";

/** A secret as stored: AES-256-GCM under the key `keyId` names, a fresh 12-byte IV each time, the 16-byte tag. */
export interface SealedSecret {
  keyId: string;
  iv: Uint8Array;
  ciphertext: Uint8Array;
  authTag: Uint8Array;
}

/** Whose and which secret a ciphertext is: bound in as associated data, so a row copied to another user or name fails. */
export interface SecretOwner {
  userId: string;
  name: string;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

function associatedData(owner: SecretOwner): Buffer {
  return Buffer.from(`trainpod secret\u0000${owner.userId}\u0000${owner.name}`, "utf8");
}

/** Encrypts `value` under the keyring's current key. */
export function sealSecret(keyring: SecretsKeyring, owner: SecretOwner, value: string): SealedSecret {
  const { id, key } = encryptingKey(keyring);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(associatedData(owner));
  const ciphertext = Buffer.concat([cipher.update(value, "utf8"), cipher.final()]);
  return { keyId: id, iv, ciphertext, authTag: cipher.getAuthTag() };
}

/**
 * The value of a sealed secret. Throws CONFIG_INVALID when the keyring lacks its key id (a key dropped from
 * SECRETS_KEYS too soon), and INTERNAL when the ciphertext, tag, IV or owner do not match (tampered, or another key
 * under the same id). The messages name the secret and the key id, never a value or a key.
 */
export function openSecret(keyring: SecretsKeyring, owner: SecretOwner, sealed: SealedSecret): string {
  const key = keyring.keys.get(sealed.keyId);
  if (key === undefined)
    throw new AppError(
      "CONFIG_INVALID",
      `secret ${owner.name} is encrypted under key id "${sealed.keyId}", which SECRETS_KEY / SECRETS_KEYS does not hold`,
      { details: { name: owner.name, keyId: sealed.keyId } },
    );
  try {
    if (sealed.iv.length !== IV_BYTES || sealed.authTag.length !== TAG_BYTES) throw new Error("bad sizes");
    const decipher = createDecipheriv("aes-256-gcm", key, sealed.iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(associatedData(owner));
    decipher.setAuthTag(sealed.authTag);
    return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]).toString("utf8");
  } catch {
    throw new AppError(
      "INTERNAL",
      `secret ${owner.name} cannot be decrypted under key id "${sealed.keyId}": its ciphertext does not authenticate (altered, or another key under that id)`,
      { details: { name: owner.name, keyId: sealed.keyId } },
    );
  }
}
