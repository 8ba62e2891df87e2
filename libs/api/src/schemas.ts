import { z } from 'zod';
import { PrecisionSchema } from '@lepton/contracts';

/** Capabilities keep unknown keys (below), so their nesting and size are bounded before anything stores them. */
export const MAX_CAPABILITIES_DEPTH = 8;
export const MAX_CAPABILITIES_CHARS = 16 * 1024;

/** How deep `value` nests (a scalar is 0), counted without recursion and giving up past `limit`. */
function depthOver(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d + 1 > limit) return true;
    for (const child of Object.values(v)) stack.push([child, d + 1]);
  }
  return false;
}

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
  .catchall(z.unknown())
  .superRefine((caps, ctx) => {
    if (depthOver(caps, MAX_CAPABILITIES_DEPTH)) {
      ctx.addIssue({ code: 'custom', message: `capabilities nest more than ${MAX_CAPABILITIES_DEPTH} levels deep; expected a flat object of short values` });
      return;
    }
    const chars = JSON.stringify(caps).length;
    if (chars > MAX_CAPABILITIES_CHARS) {
      ctx.addIssue({ code: 'custom', message: `capabilities take ${chars} characters as JSON; expected at most ${MAX_CAPABILITIES_CHARS}` });
    }
  });
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
