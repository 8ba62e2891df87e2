import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { LeptonError } from '@lepton/tensor-core';
import type { DeviceCapabilities, DeviceService, EnrollResponse } from '@lepton/api';
import type { RegistryDatabase } from '../db/schema';

/** Tokens and credentials are stored as sha256 hex only: a leaked database enrolls nothing. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function secret(prefix: string): string {
  return `${prefix}_${randomBytes(24).toString('base64url')}`;
}

export interface Device {
  id: string;
  name: string;
  capabilities: DeviceCapabilities;
  group?: string;
}

/** Enrollment tokens, devices and their credentials. */
export class DeviceRegistry implements DeviceService {
  constructor(
    private readonly db: Kysely<RegistryDatabase>,
    /** The signing key handed to devices at enrollment (they pin it). */
    private readonly serverKey?: { keyId: string; publicKey: string },
  ) {}

  /** An admin-created one-time token: enrolls one device before `ttlSeconds` pass, into `group`. */
  async createToken(ttlSeconds: number, group?: string): Promise<{ token: string; expiresAt: string; group?: string }> {
    const token = secret('lpt');
    const now = new Date();
    const expiresAt = new Date(now.getTime() + ttlSeconds * 1000).toISOString();
    await this.db
      .insertInto('enrollment_tokens')
      .values({
        token_hash: sha256Hex(token),
        kind: 'one-time',
        created_at: now.toISOString(),
        used_at: null,
        device_id: null,
        expires_at: expiresAt,
        group_name: group ?? null,
      })
      .execute();
    return { token, expiresAt, ...(group !== undefined ? { group } : {}) };
  }

  /** Accept LEPTON_ENROLL_TOKEN (reusable) from now on. */
  async addEnvToken(token: string): Promise<void> {
    await this.db
      .insertInto('enrollment_tokens')
      .values({ token_hash: sha256Hex(token), kind: 'env', created_at: new Date().toISOString(), used_at: null, device_id: null })
      .onConflict((oc) => oc.column('token_hash').doNothing())
      .execute();
  }

  /**
   * Issue a one-time token when none is outstanding (first start, or the previous one was used) and return it
   * to be printed, once: only its hash is kept. Called after the server listens, so a start that fails never
   * swallows a token nobody saw.
   */
  async issueOneTimeToken(): Promise<string | undefined> {
    const outstanding = await this.db
      .selectFrom('enrollment_tokens')
      .select('token_hash')
      .where('kind', '=', 'one-time')
      .where('used_at', 'is', null)
      .executeTakeFirst();
    if (outstanding) return undefined;
    const token = secret('lpt');
    await this.db
      .insertInto('enrollment_tokens')
      .values({ token_hash: sha256Hex(token), kind: 'one-time', created_at: new Date().toISOString(), used_at: null, device_id: null })
      .execute();
    return token;
  }

  async enroll(req: { token: string; name: string; capabilities?: DeviceCapabilities }): Promise<EnrollResponse> {
    const tokenHash = sha256Hex(req.token);
    const deviceId = `dev_${randomUUID()}`;
    const credential = secret('lpd');
    const now = new Date().toISOString();
    await this.db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('enrollment_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
      if (!row || (row.kind === 'one-time' && row.used_at !== null)) {
        throw new LeptonError('ENROLLMENT_INVALID', `enrollment token is ${row ? 'already used' : 'not known to this server'}; ask the server operator for a valid token`);
      }
      if (row.expires_at && row.expires_at <= now) {
        throw new LeptonError('ENROLLMENT_EXPIRED', `enrollment token expired at ${row.expires_at}; ask the server operator for a new one`);
      }
      await trx
        .insertInto('devices')
        .values({
          id: deviceId,
          name: req.name,
          capabilities: JSON.stringify(req.capabilities ?? {}),
          credential_hash: sha256Hex(credential),
          created_at: now,
          last_seen_at: null,
          group_name: row.group_name ?? null,
        })
        .execute();
      if (row.kind === 'one-time') {
        // Conditional on still being unused: two concurrent enrollments cannot both consume one token.
        const res = await trx
          .updateTable('enrollment_tokens')
          .set({ used_at: now, device_id: deviceId })
          .where('token_hash', '=', tokenHash)
          .where('used_at', 'is', null)
          .executeTakeFirst();
        if (Number(res.numUpdatedRows) !== 1) {
          throw new LeptonError('ENROLLMENT_INVALID', 'enrollment token is already used; ask the server operator for a valid token');
        }
      }
    });
    return { deviceId, credential, ...(this.serverKey ? { serverKey: this.serverKey } : {}) };
  }

  /** The device a bearer credential belongs to (UNAUTHORIZED otherwise); records when it was last seen. */
  async authenticate(authorization: string | undefined): Promise<Device> {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    if (!match) {
      throw new LeptonError('UNAUTHORIZED', 'missing device credential: send "Authorization: Bearer <credential>" from devices.enroll');
    }
    const hash = sha256Hex(match[1]!);
    const row = await this.db.selectFrom('devices').selectAll().where('credential_hash', '=', hash).executeTakeFirst();
    if (!row) {
      // A valid API key of another role is "not allowed", not "log in" (403, as the tRPC procedures answer).
      const key = await this.db.selectFrom('api_keys').select(['id', 'role']).where('key_hash', '=', hash).where('revoked_at', 'is', null).executeTakeFirst();
      if (key) throw new LeptonError('FORBIDDEN', `API key ${key.id} has role ${key.role}; this route needs a device credential from devices.enroll`, { role: key.role });
      throw new LeptonError('UNAUTHORIZED', 'device credential is not valid on this server; enroll again');
    }
    await this.db.updateTable('devices').set({ last_seen_at: new Date().toISOString() }).where('id', '=', row.id).execute();
    return { id: row.id, name: row.name, capabilities: JSON.parse(row.capabilities) as DeviceCapabilities, ...(row.group_name ? { group: row.group_name } : {}) };
  }
}
