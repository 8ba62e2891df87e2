import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { LeptonError } from '@lepton/tensor-core';
import { writeFileAtomic } from './atomic-file';

/** What enrollment gives a device; kept on disk so the one-time token is needed only once. */
const IdentitySchema = z.object({
  deviceId: z.string().min(1),
  credential: z.string().min(1),
  serverUrl: z.string().min(1),
  enrolledAt: z.string(),
  /** The server's signing key, pinned at enrollment: only what it signed is installed. */
  serverKey: z.object({ keyId: z.string(), publicKey: z.string() }).optional(),
});
export type Identity = z.infer<typeof IdentitySchema>;

export function identityPath(dataDir: string): string {
  return join(dataDir, 'identity.json');
}

/** The stored identity, or undefined when none exists yet. A file that exists but cannot be parsed is an error. */
export async function loadIdentity(dataDir: string): Promise<Identity | undefined> {
  const path = identityPath(dataDir);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = IdentitySchema.safeParse(json);
  if (!parsed.success) {
    // Re-enrolling silently would orphan the device on the server; make the operator decide.
    throw new LeptonError('VALIDATION_FAILED', `identity file ${path} is not a valid edge identity; delete it to enroll again`);
  }
  return parsed.data;
}

/** Persist the identity atomically, readable by the agent's user only (it holds a credential). */
export async function saveIdentity(dataDir: string, identity: Identity): Promise<void> {
  await writeFileAtomic(identityPath(dataDir), JSON.stringify(identity, null, 2), 0o600);
}
