import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync, sign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '@lepton/contracts';
import { speechFixture } from '@lepton/test-fixtures';
import { spawnAgent, spawnServer, type Proc } from './processes';
import { MODEL, admin, eventually, startProxy, trpc } from './fleet-helpers';

/**
 * A man in the middle tampers with what the server sends; a fresh agent behind it must refuse each kind of
 * tampering, keep no unverified file, say so in its log, report it in its telemetry, and still answer (through
 * the server). One agent per case, all at once.
 */
const TOKEN = 'edge-tamper-token';
const tmp = mkdtempSync(join(tmpdir(), 'lepton-edge-tamper-'));
const wav = readFileSync(speechFixture('quick').path).toString('base64');
let server: Proc;
const foreign = generateKeyPairSync('ed25519').privateKey;

type Json = { result: { data: Record<string, unknown> } };
type SyncData = { assignments: { signed: { payload: Record<string, unknown>; signature: string } }[] };

const CASES: { name: string; code: string; opts: Parameters<typeof startProxy>[1] }[] = [
  {
    name: 'tampered artifact (one byte flipped)',
    code: 'ARTIFACT_DIGEST_MISMATCH',
    opts: { artifact: (b) => (b[b.length >> 1]! ^= 0x40, b) },
  },
  {
    name: 'tampered manifest (pipeline changed in the model record)',
    code: 'SIGNATURE_INVALID',
    opts: {
      json: (path, body) => {
        if (path !== 'models.get') return body;
        const data = (body as Json).result.data as { manifest: { postprocess: unknown[] } };
        data.manifest.postprocess = [];
        return body;
      },
    },
  },
  {
    name: 'tampered signed manifest (size changed, signature kept)',
    code: 'SIGNATURE_INVALID',
    opts: {
      json: (path, body) => {
        if (path !== 'fleet.sync') return body;
        for (const a of ((body as Json).result.data as unknown as SyncData).assignments) a.signed.payload['size'] = Number(a.signed.payload['size']) + 1;
        return body;
      },
    },
  },
  {
    name: 'manifest signed by another key (claiming the server key id)',
    code: 'SIGNATURE_INVALID',
    opts: {
      json: (path, body) => {
        if (path !== 'fleet.sync') return body;
        for (const a of ((body as Json).result.data as unknown as SyncData).assignments) {
          a.signed.signature = sign(null, Buffer.from(canonicalJson(a.signed.payload)), foreign).toString('base64');
        }
        return body;
      },
    },
  },
];

const results: { proc: Proc; dir: string; close: () => Promise<void> }[] = [];

beforeAll(async () => {
  server = await spawnServer({ dataDir: join(tmp, 'server'), token: TOKEN });
  await Promise.all(
    CASES.map(async (c, i) => {
      const proxy = await startProxy(server.url, c.opts);
      const dir = join(tmp, `edge-${i}`);
      const proc = await spawnAgent({ serverUrl: proxy.url, dataDir: dir, token: TOKEN });
      results[i] = { proc, dir, close: proxy.close };
    }),
  );
});

afterAll(async () => {
  for (const r of results) {
    await r?.proc.stop();
    await r?.close();
  }
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('tampering is refused and reported', () => {
  CASES.forEach((c, i) => {
    it(c.name, async () => {
      const { proc, dir } = results[i]!;
      expect(proc.stderr()).toContain('"event":"artifact.refused"');
      expect(proc.stderr()).toContain(c.code);
      expect(proc.stderr()).not.toContain('"event":"model.ready"');
      // Nothing unverified was kept: no artifact, no state.
      const modelDir = join(dir, 'models', MODEL);
      const files = existsSync(modelDir) ? readdirSync(modelDir) : [];
      expect(files.filter((f) => f.endsWith('.onnx') || f === 'state.json')).toEqual([]);
      // Still useful: the request goes to the server.
      const r = await trpc(proc.url).vad.detect.mutate({ model: MODEL, wav });
      expect(r.answeredBy).toBe('server');
      // And the server heard about it from the device's telemetry.
      const deviceId = JSON.parse(readFileSync(join(dir, 'identity.json'), 'utf8')).deviceId as string;
      const refused = await eventually('the refused event on the server', async () => {
        const d = (await admin(server.url).devices.list.query()).find((x) => x.id === deviceId);
        return d && (d.eventsByKind['refused'] ?? 0) > 0 ? d.eventsByKind['refused'] : undefined;
      });
      expect(refused).toBeGreaterThanOrEqual(1);
    });
  });
});
