import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { canonicalJson, type ModelRecord, type SignedVariant } from '@lepton/contracts';

/** A signing key for tests, signing exactly as the server does (Ed25519 over canonical JSON). */
export class TestSigner {
  readonly keyId: string;
  readonly publicKey: string;
  private readonly privateKey: KeyObject;

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    this.privateKey = privateKey;
    const der = publicKey.export({ type: 'spki', format: 'der' });
    this.publicKey = der.toString('base64');
    this.keyId = createHash('sha256').update(der).digest('hex').slice(0, 16);
  }

  get pinned() {
    return { keyId: this.keyId, publicKey: this.publicKey };
  }

  signPayload(payload: SignedVariant['payload']): SignedVariant {
    return { payload, signature: sign(null, Buffer.from(canonicalJson(payload)), this.privateKey).toString('base64') };
  }

  /** Sign the first variant of `record` with this key. */
  signRecord(record: ModelRecord, keyId = this.keyId): SignedVariant {
    const v = record.variants[0]!;
    return this.signPayload({
      modelId: record.id,
      version: record.version,
      variantId: v.id,
      precision: v.precision,
      sha256: v.sha256,
      size: v.size,
      manifestSha256: createHash('sha256').update(canonicalJson(record.manifest)).digest('hex'),
      keyId,
    });
  }
}
