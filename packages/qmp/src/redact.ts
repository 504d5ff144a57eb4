/**
 * Redaction of secrets in frames handed to logging hooks: `password` members (`set_password`,
 * `change-vnc-password`, ...), the `data` of `secret` objects, and HMP password commands. Only
 * computed when a hook is installed, so logging costs nothing when off.
 */

const SECRET_KEYS = /^(password|passwd|passphrase|token|keyring-data)$/i;
const SECRET_QOM_TYPES = new Set(['secret', 'secret_keyring']);
const HMP_SECRET = /^\s*(set_password|change\s+vnc\s+password|block_passwd)\b/;

/** The marker that replaces redacted values. */
export const REDACTED = '<redacted>';

function walk(value: unknown, depth: number): unknown {
  if (depth > 64 || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((v) => walk(v, depth + 1));
  const obj = value as Record<string, unknown>;
  const secretObject = typeof obj['qom-type'] === 'string' && SECRET_QOM_TYPES.has(obj['qom-type']);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (SECRET_KEYS.test(k) || (secretObject && (k === 'data' || k === 'iv'))) out[k] = REDACTED;
    else if (k === 'command-line' && typeof v === 'string' && HMP_SECRET.test(v)) out[k] = REDACTED;
    else out[k] = walk(v, depth + 1);
  }
  return out;
}

/**
 * Return a copy of a QMP message with secrets replaced by {@link REDACTED}. The default
 * `redact` of the logging hooks.
 */
export function redactSecrets(message: unknown): unknown {
  return walk(message, 0);
}
