import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lepton, spawnAgent, spawnListening, type Proc } from './processes';

/** `lepton devices ...` and `lepton deployments ...` against a real server with a real enrolled agent. */
const ADMIN = 'cli-fleet-admin-key';
const tmp = mkdtempSync(join(tmpdir(), 'lepton-cli-fleet-'));
let server: Proc | undefined;
let agent: Proc | undefined;
let deviceId = '';

const as = (args: string[]) => lepton([...args, '--server', server!.url], { LEPTON_API_KEY: ADMIN });

beforeAll(async () => {
  server = await spawnListening('apps/server/src/main.ts', 'Lepton server listening on', {
    PORT: '0',
    LEPTON_DATA_DIR: join(tmp, 'server'),
    LEPTON_ADMIN_KEY: ADMIN,
    LEPTON_LOG_LEVEL: 'warn',
  });
});

afterAll(async () => {
  await agent?.stop();
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('lepton fleet commands', () => {
  it('creates a one-time enrollment token that enrolls an agent into a group', async () => {
    const res = await as(['devices', 'token', 'create', '--group', 'lab', '--ttl', '600', '--json']);
    expect(res.code).toBe(0);
    const token = JSON.parse(res.stdout) as { token: string; group: string; expiresAt: string };
    expect(token.group).toBe('lab');
    agent = await spawnAgent({ serverUrl: server!.url, dataDir: join(tmp, 'edge'), token: token.token });
    deviceId = JSON.parse(readFileSync(join(tmp, 'edge', 'identity.json'), 'utf8')).deviceId;
  });

  it('lists devices with group, installed version and last seen', async () => {
    const res = await as(['devices', 'list']);
    expect(res.code).toBe(0);
    const [header, row] = res.stdout.trim().split('\n');
    expect(header).toMatch(/^DEVICE\s+NAME\s+GROUP\s+MODELS\s+ERRORS\s+P50 MS\s+EVENTS\s+LAST SEEN\s+VARIANT$/);
    expect(row).toContain(deviceId);
    expect(row).toContain('lab');
    expect(row).toContain('silero-vad-v5@5.0.0 (installed)');
    // The variant the server assigns this agent (GBs of memory: fp32, whether or not the int8-edge build landed yet) and why.
    expect(row).toMatch(/\ds ago\s+fp32 \(fp32: [a-z0-9 ,-]+\)$/);
  });

  it('creates, lists and shows a deployment', async () => {
    const created = await as(['deployments', 'create', 'silero-vad-v5', '5.0.0', '--group', 'lab', '--percent', '100', '--max-failure-rate', '0.5']);
    expect(created.code).toBe(0);
    const id = /^created (dep_\S+): silero-vad-v5@5\.0\.0 \(100%\)$/.exec(created.stdout.trim())?.[1];
    expect(id).toBeDefined();
    const list = await as(['deployments', 'list']);
    expect(list.stdout).toMatch(new RegExp(`${id}\\s+silero-vad-v5@5\\.0\\.0\\s+group lab\\s+100%\\s+active`));
    const status = await as(['deployments', 'status', id!, '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ id, status: 'active', maxFailureRate: 0.5, target: { group: 'lab' } });
  });

  it('refuses without an admin key, and names a bad target choice', async () => {
    const res = await lepton(['devices', 'list', '--server', server!.url]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^error UNAUTHORIZED: .*pass --key or set LEPTON_API_KEY/m);
    const bad = await as(['deployments', 'create', 'silero-vad-v5', '5.0.0']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^error BAD_REQUEST: choose exactly one target/m);
  });

  it('names a --server that is no URL (was UPSTREAM_UNAVAILABLE "Failed to parse URL") and an unknown --variant (was "variantPolicy: Invalid input")', async () => {
    const url = await lepton(['devices', 'list', '--server', 'localhost:8080'], { LEPTON_API_KEY: ADMIN });
    expect([url.code, url.stderr.trim()]).toEqual([1, "error BAD_REQUEST: option '--server <url>' argument 'localhost:8080' is invalid. expected an http:// or https:// URL."]);
    const variant = await as(['deployments', 'create', 'silero-vad-v5', '5.0.0', '--all', '--variant', 'fp8']);
    expect([variant.code, variant.stderr.trim()]).toEqual([1, 'error VALIDATION_FAILED: variantPolicy: Invalid option: expected one of "auto"|"fp32"|"fp16"|"int8"|"uint8"|"int4"']);
  });

  it("passes --group '' to the server, which refuses it, instead of dropping it (a token with no group; a deployment to no target)", async () => {
    const token = await as(['devices', 'token', 'create', '--group', '']);
    expect(token.code).toBe(1);
    expect(token.stderr).toMatch(/^error VALIDATION_FAILED: group: "" is not a group name/m);
    const dep = await as(['deployments', 'create', 'silero-vad-v5', '5.0.0', '--group', '']);
    expect(dep.code).toBe(1);
    expect(dep.stderr).toMatch(/^error VALIDATION_FAILED: .*group: "" is not a group name/m);
  });
});
