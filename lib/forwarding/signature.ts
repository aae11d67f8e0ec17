import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { InvalidOptionError } from '../errors.js';

/**
 * Request signing in the scheme Discord uses for interactions webhooks: an Ed25519 signature
 * of `timestamp + body`, hex-encoded in `X-Signature-Ed25519`, with the timestamp (unix
 * seconds) in `X-Signature-Timestamp`. A receiver that already verifies interactions (for
 * example with `discord-interactions`' `verifyKey`) verifies forwarded dispatches unchanged,
 * given the forwarder's public key instead of the application's.
 */

/**
 * Header carrying the hex Ed25519 signature of `timestamp + body`.
 *
 * @category Stores and forwarding
 */
export const SIGNATURE_HEADER = 'X-Signature-Ed25519';
/**
 * Header carrying the signing time in unix seconds.
 *
 * @category Stores and forwarding
 */
export const TIMESTAMP_HEADER = 'X-Signature-Timestamp';

/**
 * An Ed25519 key: a `KeyObject`, a PEM string, a 64-character hex string or 32 raw bytes.
 *
 * @category Stores and forwarding
 */
export type Ed25519KeyInput = KeyObject | string | Uint8Array;

// DER headers of PKCS#8 and SPKI Ed25519 keys (RFC 8410): appending the 32 raw bytes gives a
// key node:crypto imports, which is how raw seeds and Discord-style hex public keys load.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const HEX_KEY = /^[0-9a-f]{64}$/i;
const HEX_SIGNATURE = /^[0-9a-f]{128}$/i;

function rawKeyBytes(input: string | Uint8Array): Buffer | undefined {
  if (typeof input !== 'string') return input.byteLength === 32 ? Buffer.from(input) : undefined;
  return HEX_KEY.test(input) ? Buffer.from(input, 'hex') : undefined;
}

function assertEd25519(key: KeyObject, option: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') throw new InvalidOptionError(option, 'an Ed25519 key');
  return key;
}

/**
 * Loads an Ed25519 private key.
 *
 * @param input - a private `KeyObject`, a PKCS#8 PEM, or the 32-byte seed (raw or hex)
 * @returns the private key
 * @throws InvalidOptionError (`privateKey`) when the input is not an Ed25519 private key
 *
 * @category Stores and forwarding
 */
export function toPrivateKey(input: Ed25519KeyInput): KeyObject {
  if (typeof input === 'object' && !(input instanceof Uint8Array)) {
    if (input.type !== 'private') throw new InvalidOptionError('privateKey', 'a private key');
    return assertEd25519(input, 'privateKey');
  }
  const raw = rawKeyBytes(input);
  try {
    const key = raw
      ? createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, raw]), format: 'der', type: 'pkcs8' })
      : createPrivateKey(typeof input === 'string' ? input : Buffer.from(input));
    return assertEd25519(key, 'privateKey');
  } catch (error) {
    if (error instanceof InvalidOptionError) throw error;
    throw new InvalidOptionError('privateKey', 'an Ed25519 private key (KeyObject, PEM, or 32-byte seed as bytes or hex)');
  }
}

/**
 * Loads an Ed25519 public key.
 *
 * @param input - a `KeyObject` (a private one yields its public half), an SPKI PEM, or the
 *   32 raw bytes (raw or hex, the form Discord shows application public keys in)
 * @returns the public key
 * @throws InvalidOptionError (`publicKey`) when the input is not an Ed25519 key
 *
 * @category Stores and forwarding
 */
export function toPublicKey(input: Ed25519KeyInput): KeyObject {
  if (typeof input === 'object' && !(input instanceof Uint8Array)) {
    return assertEd25519(input.type === 'private' ? createPublicKey(input) : input, 'publicKey');
  }
  const raw = rawKeyBytes(input);
  try {
    const key = raw
      ? createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' })
      : createPublicKey(typeof input === 'string' ? input : Buffer.from(input));
    return assertEd25519(key, 'publicKey');
  } catch (error) {
    if (error instanceof InvalidOptionError) throw error;
    throw new InvalidOptionError('publicKey', 'an Ed25519 public key (KeyObject, PEM, or 32 bytes as bytes or hex)');
  }
}

/**
 * Signs a request body the way Discord signs interactions.
 *
 * @param privateKey - the forwarder's private key
 * @param timestamp - unix seconds, as sent in {@link TIMESTAMP_HEADER}
 * @param body - the exact bytes or text of the request body
 * @returns the hex signature for {@link SIGNATURE_HEADER}
 *
 * @category Stores and forwarding
 */
export function signForwardedRequest(privateKey: KeyObject, timestamp: string, body: string | Uint8Array): string {
  return sign(null, Buffer.concat([Buffer.from(timestamp), Buffer.from(body)]), privateKey).toString('hex');
}

/**
 * Options of {@link verifyForwardedRequest}.
 *
 * @category Stores and forwarding
 */
export interface VerifyOptions {
  /**
   * Refuse timestamps further than this many seconds from `now`, in either direction, so a
   * captured request cannot be replayed later. Default 300. The forwarder signs every attempt
   * afresh, so retries never trip it. `Infinity` turns the check off (Discord's own helpers do
   * not check).
   */
  maxAgeSeconds?: number;
  /** Current time in epoch milliseconds (default `Date.now()`). */
  now?: number;
}

/**
 * Checks a forwarded request on the receiving side, exactly as interactions are checked.
 *
 * @param publicKey - the forwarder's public key (`KeyObject`, PEM, or 32 bytes raw or hex)
 * @param signatureHex - value of the `X-Signature-Ed25519` header
 * @param timestamp - value of the `X-Signature-Timestamp` header
 * @param body - the raw request body, before any JSON parsing
 * @param options - replay window
 * @returns true when the signature is valid for this body and timestamp and the timestamp is recent
 * @throws InvalidOptionError when `publicKey` is not an Ed25519 key (a bad signature only returns false)
 *
 * @example
 * ```ts
 * const body = await readBody(req);
 * const ok = verifyForwardedRequest(PUBLIC_KEY_HEX, req.headers['x-signature-ed25519'],
 *   req.headers['x-signature-timestamp'], body);
 * if (!ok) return res.writeHead(401).end();
 * ```
 *
 * @category Stores and forwarding
 */
export function verifyForwardedRequest(
  publicKey: Ed25519KeyInput,
  signatureHex: string | undefined,
  timestamp: string | undefined,
  body: string | Uint8Array,
  options: VerifyOptions = {},
): boolean {
  const key = toPublicKey(publicKey);
  // Buffer.from(hex) silently drops bad characters, so shape-check before decoding.
  if (signatureHex === undefined || timestamp === undefined || !HEX_SIGNATURE.test(signatureHex)) return false;
  if (!/^\d+$/.test(timestamp)) return false;
  const maxAge = options.maxAgeSeconds ?? 300;
  const now = options.now ?? Date.now();
  if (Math.abs(now / 1000 - Number(timestamp)) > maxAge) return false;
  return verify(null, Buffer.concat([Buffer.from(timestamp), Buffer.from(body)]), key, Buffer.from(signatureHex, 'hex'));
}

/**
 * A fresh key pair for a forwarder and its receiver.
 *
 * @category Stores and forwarding
 */
export interface ForwarderKeys {
  /** Give to {@link GatewayForwarder} (`privateKey` option). */
  readonly privateKey: KeyObject;
  /** Give to the receiver's {@link verifyForwardedRequest}. */
  readonly publicKey: KeyObject;
  /** The private key's 32-byte seed as hex, for storing in a secret or environment variable. */
  readonly privateKeyHex: string;
  /** The public key's 32 raw bytes as hex, the form Discord shows application public keys in. */
  readonly publicKeyHex: string;
}

/**
 * Generates an Ed25519 key pair for forwarding.
 *
 * @returns the keys as `KeyObject`s and as hex strings
 *
 * @example
 * ```ts
 * const { privateKeyHex, publicKeyHex } = generateForwarderKeys();
 * // store privateKeyHex with the bot, publicKeyHex with the receiver
 * ```
 *
 * @category Stores and forwarding
 */
export function generateForwarderKeys(): ForwarderKeys {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  return {
    privateKey,
    publicKey,
    privateKeyHex: pkcs8.subarray(PKCS8_PREFIX.length).toString('hex'),
    publicKeyHex: spki.subarray(SPKI_PREFIX.length).toString('hex'),
  };
}
