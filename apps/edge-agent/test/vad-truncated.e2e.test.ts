import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VadResult } from '@lepton/contracts';
import { postWavStream } from '@lepton/node-platform';
import { cutWav, speechFixture } from '@lepton/test-fixtures';
import { spawnAgent, spawnServer, type Proc } from './processes';
import { MODEL, trpc } from './fleet-helpers';

/**
 * A cut WAV (its data chunk declares more bytes than the file holds) on a real agent: answered on the edge from
 * what the file holds, like the server answers it, with the same WAV_TRUNCATED warning on tRPC and the stream.
 */
const TOKEN = 'edge-vad-truncated-token';
const tmp = mkdtempSync(join(tmpdir(), 'lepton-edge-vad-truncated-'));
const good = new Uint8Array(readFileSync(speechFixture('quick').path));
// 2 s of 16 kHz 16-bit audio: into the sentence, which starts at 1.0 s.
const cut = cutWav(good, 64000);
let server: Proc | undefined;
let agent: Proc | undefined;

const detect = (url: string, wav: Uint8Array): Promise<VadResult> =>
  trpc(url).vad.detect.mutate({ model: MODEL, wav: Buffer.from(wav).toString('base64'), includeProbabilities: true });

beforeAll(async () => {
  server = await spawnServer({ dataDir: join(tmp, 'server'), token: TOKEN });
  agent = await spawnAgent({ serverUrl: server.url, dataDir: join(tmp, 'edge'), token: TOKEN });
});

afterAll(async () => {
  await agent?.stop();
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('a cut WAV on a real edge agent', () => {
  it('answers on the edge with the WAV_TRUNCATED warning the server gives, inline and streamed; none for the complete file', async () => {
    const warnings = [
      {
        code: 'WAV_TRUNCATED',
        message: `WAV data chunk declares ${cut.declaredBytes} bytes, the file holds 64000; read 64000 (the file looks cut short)`,
        details: { declaredBytes: cut.declaredBytes, readBytes: 64000 },
      },
    ];
    const onServer = await detect(server!.url, cut.bytes);
    expect(onServer.warnings).toEqual(warnings);
    const inline = await detect(agent!.url, cut.bytes);
    const streamed = await postWavStream(agent!.url, cut.bytes, { model: MODEL, includeProbabilities: true });
    for (const r of [inline, streamed]) {
      expect(r.answeredBy).toBe('edge');
      expect(r.warnings).toEqual(warnings);
      expect(r.segments).toEqual(onServer.segments);
      expect(r.probabilities).toEqual(onServer.probabilities);
      expect(r.durationSec).toBe(2);
    }
    const complete = await detect(agent!.url, good);
    expect(complete.answeredBy).toBe('edge');
    expect('warnings' in complete).toBe(false);
    expect('warnings' in (await postWavStream(agent!.url, good, { model: MODEL }))).toBe(false);
  });
});
