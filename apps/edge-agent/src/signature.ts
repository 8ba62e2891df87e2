import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { LeptonError } from '@lepton/tensor-core';
import { canonicalJson, type ModelRecord, type SignedVariant } from '@lepton/contracts';

/** The server key this device pinned at enrollment. */
export interface PinnedKey {
  keyId: string;
  /** base64 SPKI DER */
  publicKey: string;
}

/**
 * Checks what the server signed, against the key pinned at enrollment only: a payload signed by any other key, a
 * payload changed after signing, or a manifest that no longer hashes to the signed digest is refused with
 * SIGNATURE_INVALID. Digest and size of the bytes are checked by the download and the cache.
 */
export class SignatureVerifier {
  private readonly key: KeyObject;

  constructor(readonly pinned: PinnedKey) {
    this.key = createPublicKey({ key: Buffer.from(pinned.publicKey, 'base64'), format: 'der', type: 'spki' });
  }

  verify(signed: SignedVariant, expect: { model: string; version?: string }): void {
    const p = signed.payload;
    const what = `${p.modelId}@${p.version} (${p.variantId})`;
    if (p.keyId !== this.pinned.keyId) {
      throw new LeptonError('SIGNATURE_INVALID', `${what} is signed by key ${p.keyId}, not the pinned server key ${this.pinned.keyId}; refused`, {
        keyId: p.keyId,
        pinned: this.pinned.keyId,
      });
    }
    let ok = false;
    try {
      ok = verify(null, Buffer.from(canonicalJson(p), 'utf8'), this.key, Buffer.from(signed.signature, 'base64'));
    } catch {
      ok = false;
    }
    if (!ok) throw new LeptonError('SIGNATURE_INVALID', `signature of ${what} does not verify under the pinned server key ${this.pinned.keyId}; refused`);
    if (p.modelId !== expect.model || (expect.version !== undefined && p.version !== expect.version)) {
      throw new LeptonError('SIGNATURE_INVALID', `signed payload is for ${p.modelId}@${p.version}, expected ${expect.model}@${expect.version ?? '*'}; refused`);
    }
  }

  /** The manifest the device runs must be the one the server signed (pipelines and labels change results). */
  checkManifest(signed: SignedVariant, record: ModelRecord): void {
    const digest = createHash('sha256').update(canonicalJson(record.manifest), 'utf8').digest('hex');
    if (digest !== signed.payload.manifestSha256 || record.id !== signed.payload.modelId || record.version !== signed.payload.version) {
      throw new LeptonError(
        'SIGNATURE_INVALID',
        `manifest of ${record.id}@${record.version} hashes to ${digest}, but the server signed ${signed.payload.manifestSha256} for ${signed.payload.modelId}@${signed.payload.version}; refused`,
        { expected: signed.payload.manifestSha256, actual: digest },
      );
    }
  }
}
