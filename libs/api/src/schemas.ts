import { z } from 'zod';
import { PrecisionSchema } from '@lepton/contracts';

/**
 * Request shapes that exist only at the API edge (everything model- and tensor-shaped lives in contracts).
 * Capabilities let the server pick a variant for a device; unknown keys are kept for forward compatibility.
 */
export const DeviceCapabilitiesSchema = z
  .object({
    /** onnxruntime flavour and version on the device, e.g. "onnxruntime-node@1.30.0". */
    runtime: z.string().max(128).optional(),
    /** Precisions the device can run, best first. */
    precisions: z.array(PrecisionSchema).max(8).optional(),
    os: z.string().max(64).optional(),
    arch: z.string().max(64).optional(),
    memoryMb: z.number().int().min(0).optional(),
    /** CPU features the device reports (e.g. avx2, avx512f, neon), used to pick a variant. */
    cpuFeatures: z.array(z.string().max(32)).max(64).optional(),
    /** onnxruntime execution providers available on the device, best first. */
    executionProviders: z.array(z.string().max(64)).max(16).optional(),
  })
  .catchall(z.unknown());
export type DeviceCapabilities = z.infer<typeof DeviceCapabilitiesSchema>;

export const EnrollRequestSchema = z.object({
  token: z.string().min(1).max(256),
  name: z.string().min(1).max(128),
  capabilities: DeviceCapabilitiesSchema.optional(),
});
export type EnrollRequest = z.input<typeof EnrollRequestSchema>;

export const EnrollResponseSchema = z.object({
  deviceId: z.string(),
  /** Bearer credential for device routes (artifact download); shown once, stored hashed by the server. */
  credential: z.string(),
  /** The server's Ed25519 public key (base64 SPKI DER): the device pins it and trusts only what it signed. */
  serverKey: z.object({ keyId: z.string(), publicKey: z.string() }).optional(),
});
export type EnrollResponse = z.infer<typeof EnrollResponseSchema>;

export const ModelGetInputSchema = z.object({
  id: z.string().min(1).max(128),
  version: z.string().min(1).max(64).optional(),
});

/** Largest WAV accepted inline by `vad.detect` (base64 in JSON); larger files go through the streaming route. */
export const MAX_INLINE_WAV_BYTES = 32 * 1024 * 1024;
