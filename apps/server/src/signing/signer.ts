import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalJson, type SignedPayload, type SignedVariant } from '@lepton/contracts';
import { writeFileSync, renameSync, openSync, fsyncSync, closeSync } from 'node:fs';

/**
 * The server's Ed25519 signing key: generated on first start into DATA_DIR/signing/ed25519.pem (mode 0600) and
 * kept. Devices pin the public key at enrollment, so replacing this file orphans every enrolled device: back it
 * up with the registry.
 */
export class Signer {
  private constructor(
    private readonly privateKey: KeyObject,
    readonly publicKeyDer: Buffer,
    readonly keyId: string,
  ) {}

  static async open(dataDir: string): Promise<Signer> {
    const dir = join(dataDir, 'signing');
    const file = join(dir, 'ed25519.pem');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    let pem: string;
    try {
      pem = await readFile(file, 'utf8');
    } catch {
      const { privateKey } = generateKeyPairSync('ed25519');
      pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
      // temp + fsync + rename: a crash never leaves a half-written key that would change on the next start.
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, pem, { mode: 0o600 });
      const fd = openSync(tmp, 'r');
      fsyncSync(fd);
      closeSync(fd);
      renameSync(tmp, file);
    }
    const privateKey = createPrivateKey(pem);
    const der = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
    return new Signer(privateKey, der, createHash('sha256').update(der).digest('hex').slice(0, 16));
  }

  /** Base64 SPKI DER: what devices pin. */
  get publicKey(): string {
    return this.publicKeyDer.toString('base64');
  }

  sign(payload: Omit<SignedPayload, 'keyId'>): SignedVariant {
    const full: SignedPayload = { ...payload, keyId: this.keyId };
    const signature = sign(null, Buffer.from(canonicalJson(full), 'utf8'), this.privateKey).toString('base64');
    return { payload: full, signature };
  }
}

/** sha256 of a manifest as the registry stores it (canonical JSON), signed into every variant payload. */
export function manifestDigest(manifest: unknown): string {
  return createHash('sha256').update(canonicalJson(manifest), 'utf8').digest('hex');
}
