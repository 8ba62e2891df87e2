import { randomBytes, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { LeptonError } from '@lepton/tensor-core';
import type { ApiKeyCreated, Principal, Role } from '@lepton/contracts';
import type { Authenticator } from '@lepton/api';
import type { RegistryDatabase } from '../db/schema';
import { sha256Hex } from '../devices/device-registry';

/**
 * API keys (admin, client) and the request authenticator: a Bearer secret is looked up by its sha256 among API
 * keys, then among device credentials. Only hashes are stored.
 */
export class ApiKeys implements Authenticator {
  constructor(private readonly db: Kysely<RegistryDatabase>) {}

  async create(name: string, role: 'admin' | 'client', kind = 'created'): Promise<ApiKeyCreated> {
    const key = `lpk_${randomBytes(24).toString('base64url')}`;
    const id = `key_${randomUUID()}`;
    await this.db
      .insertInto('api_keys')
      .values({ id, name, role, key_hash: sha256Hex(key), kind, created_at: new Date().toISOString(), revoked_at: null })
      .execute();
    return { id, name, role, key };
  }

  /** LEPTON_ADMIN_KEY: a reusable admin key from the environment (`npm start` sets a development value). */
  async addEnvAdminKey(key: string): Promise<void> {
    await this.db
      .insertInto('api_keys')
      .values({ id: 'key_env', name: 'LEPTON_ADMIN_KEY', role: 'admin', key_hash: sha256Hex(key), kind: 'env', created_at: new Date().toISOString(), revoked_at: null })
      .onConflict((oc) => oc.column('id').doUpdateSet({ key_hash: sha256Hex(key), revoked_at: null }))
      .execute();
  }

  /** The first start creates an admin key (printed once) so there is always a way in. */
  async bootstrapAdminKey(): Promise<string | undefined> {
    const any = await this.db.selectFrom('api_keys').select('id').where('role', '=', 'admin').executeTakeFirst();
    if (any) return undefined;
    return (await this.create('bootstrap admin', 'admin', 'bootstrap')).key;
  }

  async list(): Promise<{ id: string; name: string; role: Role; createdAt: string; revokedAt?: string }[]> {
    const rows = await this.db.selectFrom('api_keys').selectAll().orderBy('created_at').execute();
    return rows.map((r) => ({ id: r.id, name: r.name, role: r.role as Role, createdAt: r.created_at, ...(r.revoked_at ? { revokedAt: r.revoked_at } : {}) }));
  }

  async revoke(id: string): Promise<{ id: string; revoked: boolean }> {
    const res = await this.db.updateTable('api_keys').set({ revoked_at: new Date().toISOString() }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
    return { id, revoked: Number(res.numUpdatedRows) === 1 };
  }

  async authenticate(authorization: string | undefined): Promise<Principal | undefined> {
    if (authorization === undefined || authorization === '') return undefined;
    const match = /^Bearer\s+(\S+)$/i.exec(authorization);
    if (!match) throw new LeptonError('UNAUTHORIZED', 'Authorization header must be "Bearer <key>"');
    const hash = sha256Hex(match[1]!);
    const key = await this.db.selectFrom('api_keys').select(['id', 'role', 'revoked_at']).where('key_hash', '=', hash).executeTakeFirst();
    if (key) {
      if (key.revoked_at !== null) throw new LeptonError('UNAUTHORIZED', `API key ${key.id} was revoked at ${key.revoked_at}`);
      return { role: key.role as Role, id: key.id };
    }
    const device = await this.db.selectFrom('devices').select('id').where('credential_hash', '=', hash).executeTakeFirst();
    if (device) return { role: 'device', id: device.id };
    throw new LeptonError('UNAUTHORIZED', 'the credential is not an API key or device credential of this server');
  }
}
