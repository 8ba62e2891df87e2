import { createServer, type AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALSA_NOISE, ALSA_SPEECH, cutWav, speechFixture } from '@lepton/test-fixtures';
import { runVad } from '../src/commands/vad';
import { lepton, spawnAgent, spawnServer, type Proc } from './processes';

/** The real `lepton` command, spawned like `npx lepton`, against a real server and edge agent. */
const TOKEN = 'cli-e2e-enroll-token';
const tmp = mkdtempSync(join(tmpdir(), 'lepton-cli-e2e-'));
const quick = speechFixture('quick');
let server: Proc | undefined;
let agent: Proc | undefined;

/** A loopback port nobody listens on (bound, then released). */
function closedPort(): Promise<number> {
  return new Promise((ok) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => ok(port));
    });
  });
}

interface VadJson {
  segments: { start: number; end: number; probability: number }[];
  chunks: number;
  answeredBy: string;
  warnings?: { code: string; message: string; details: { declaredBytes: number; readBytes: number } }[];
}

async function vadJson(file: string, ...args: string[]): Promise<VadJson> {
  const res = await lepton(['vad', file, '--json', ...args]);
  expect(res.stderr).toBe('');
  expect(res.code).toBe(0);
  return JSON.parse(res.stdout) as VadJson;
}

beforeAll(async () => {
  server = await spawnServer({ dataDir: join(tmp, 'server'), token: TOKEN });
  agent = await spawnAgent({ serverUrl: server.url, dataDir: join(tmp, 'edge'), token: TOKEN });
});

afterAll(async () => {
  await agent?.stop();
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('lepton vad --on local', () => {
  it('finds the sentence of the quick fixture where it starts (within 0.15 s of 1.0 s)', async () => {
    const out = await vadJson(quick.path, '--on', 'local');
    expect(Object.keys(out)).toEqual(['segments', 'chunks', 'answeredBy']);
    expect(out.answeredBy).toBe('local');
    expect(out.segments.length).toBeGreaterThan(0);
    expect(Math.abs(out.segments[0]!.start - quick.speechStart)).toBeLessThanOrEqual(0.15);
    expect(out.segments.at(-1)!.end).toBeGreaterThan(quick.speechEnd - 0.3);
    for (const s of out.segments) expect(Object.keys(s)).toEqual(['start', 'end', 'probability']);
    // 16 kHz, 512 new samples a chunk: the whole file is covered, give or take the last partial chunk.
    const samples = (quick.speechEnd + 1) * 16000;
    expect(out.chunks).toBeGreaterThanOrEqual(Math.floor(samples / 512));
    expect(out.chunks).toBeLessThanOrEqual(Math.ceil(samples / 512));
  });

  it('finds no speech in ALSA Noise.wav', async () => {
    const out = await vadJson(ALSA_NOISE, '--on', 'local');
    expect(out.segments).toEqual([]);
    expect(out.chunks).toBeGreaterThan(0);
  });

  it('prints one line per segment and a summary without --json', async () => {
    const res = await lepton(['vad', quick.path, '--on', 'local']);
    expect(res.code).toBe(0);
    const lines = res.stdout.trim().split('\n');
    const json = await vadJson(quick.path, '--on', 'local');
    expect(lines).toHaveLength(json.segments.length + 1);
    json.segments.forEach((s, i) => {
      expect(lines[i]).toBe(`${s.start.toFixed(2)}-${s.end.toFixed(2)} s  (p=${s.probability.toFixed(2)})`);
    });
    expect(lines.at(-1)).toMatch(new RegExp(`^${quick.path}: ${json.segments.length} segments?, [0-9.]+ s of speech in [0-9.]+ s of audio \\(${json.chunks} chunks\\), answered by local$`));
  });

  it('passes --threshold through (a threshold of 1 finds nothing)', async () => {
    expect((await vadJson(quick.path, '--on', 'local', '--threshold', '1')).segments).toEqual([]);
  });
});

describe('lepton vad on every platform', () => {
  it.each([quick.path, ALSA_SPEECH[0]!])('gives identical JSON segments on server, edge and local for %s', async (file) => {
    const onServer = await vadJson(file, '--on', 'server', '--server', server!.url);
    const onEdge = await vadJson(file, '--on', 'edge', '--edge', agent!.url);
    const onLocal = await vadJson(file, '--on', 'local');
    expect([onServer.answeredBy, onEdge.answeredBy, onLocal.answeredBy]).toEqual(['server', 'edge', 'local']);
    expect(onServer.segments.length).toBeGreaterThan(0);
    expect(onEdge.segments).toEqual(onServer.segments);
    expect(onLocal.segments).toEqual(onServer.segments);
    expect(onEdge.chunks).toBe(onServer.chunks);
    expect(onLocal.chunks).toBe(onServer.chunks);
  });
});

describe('runVad per-chunk probabilities', () => {
  it.each([quick.path, ALSA_SPEECH[1]!, ALSA_NOISE])('are identical on server, edge and local for %s', async (file) => {
    const base = { server: server!.url, edge: agent!.url, model: 'silero-vad-v5', options: {}, probabilities: true };
    const [s, e, l] = [await runVad(file, { ...base, on: 'server' }), await runVad(file, { ...base, on: 'edge' }), await runVad(file, { ...base, on: 'local' })];
    expect([s.answeredBy, e.answeredBy, l.answeredBy]).toEqual(['server', 'edge', 'local']);
    expect(s.probabilities).toHaveLength(s.chunks);
    expect(s.probabilities!.some((p) => p > 0)).toBe(true);
    expect(e.probabilities).toEqual(s.probabilities);
    expect(l.probabilities).toEqual(s.probabilities);
    expect(l.segments).toEqual(s.segments);
    // Without the flag nothing extra is sent or returned.
    expect((await runVad(file, { ...base, probabilities: false, on: 'local' })).probabilities).toBeUndefined();
  });
});

describe('lepton vad on a cut file (data chunk larger than the file)', () => {
  // 2 s of the 16 kHz 16-bit quick fixture, its header still declaring the whole file.
  const cut = cutWav(new Uint8Array(readFileSync(quick.path)), 64000);
  const cutPath = join(tmp, 'cut.wav');
  const warning = {
    code: 'WAV_TRUNCATED',
    message: `WAV data chunk declares ${cut.declaredBytes} bytes, the file holds 64000; read 64000 (the file looks cut short)`,
    details: { declaredBytes: cut.declaredBytes, readBytes: 64000 },
  };
  beforeAll(() => writeFileSync(cutPath, cut.bytes));

  it('answers what the file holds and says it is cut, in --json on every platform and in the text output', async () => {
    const onLocal = await vadJson(cutPath, '--on', 'local');
    expect(Object.keys(onLocal)).toEqual(['segments', 'chunks', 'answeredBy', 'warnings']);
    expect(onLocal.warnings).toEqual([warning]);
    expect(onLocal.segments.length).toBe(1);
    expect(onLocal.chunks).toBe(63); // 32,000 samples: 62 chunks of 512 and a partial one
    for (const [on, flag, url] of [['server', '--server', server!.url], ['edge', '--edge', agent!.url]] as const) {
      const out = await vadJson(cutPath, '--on', on, flag, url);
      expect(out).toEqual({ ...onLocal, answeredBy: on });
    }
    const text = await lepton(['vad', cutPath, '--on', 'local']);
    expect(text.code).toBe(0);
    const lines = text.stdout.trim().split('\n');
    expect(lines.at(-2)).toMatch(/ in 2\.00 s of audio \(63 chunks\), answered by local$/);
    expect(lines.at(-1)).toBe(`warning WAV_TRUNCATED: ${warning.message}`);
  });

  it('says nothing of the kind for the complete file', async () => {
    const res = await lepton(['vad', quick.path, '--on', 'local']);
    expect(res.stdout).not.toContain('warning');
    expect((await runVad(quick.path, { on: 'local', server: server!.url, edge: agent!.url, model: 'silero-vad-v5', options: {} })).warnings).toBeUndefined();
  });
});

describe('lepton vad server and edge URLs from the environment', () => {
  it('reads LEPTON_EDGE_URL and LEPTON_SERVER_URL when --edge and --server are not given', async () => {
    const env = { LEPTON_SERVER_URL: server!.url, LEPTON_EDGE_URL: agent!.url };
    const onEdge = await lepton(['vad', quick.path, '--on', 'edge', '--json'], env);
    const onServer = await lepton(['vad', quick.path, '--on', 'server', '--json'], env);
    expect([onEdge.code, onServer.code]).toEqual([0, 0]);
    const [edge, srv] = [JSON.parse(onEdge.stdout) as VadJson, JSON.parse(onServer.stdout) as VadJson];
    expect([edge.answeredBy, srv.answeredBy]).toEqual(['edge', 'server']);
    expect(edge.segments).toEqual(srv.segments);
  });

  it('lets --edge win over LEPTON_EDGE_URL, and rejects a variable that is not a URL', async () => {
    const port = await closedPort();
    const flagWins = await lepton(['vad', quick.path, '--on', 'edge', '--json', '--edge', agent!.url], { LEPTON_EDGE_URL: `http://127.0.0.1:${port}` });
    expect(flagWins.code).toBe(0);
    expect((JSON.parse(flagWins.stdout) as VadJson).answeredBy).toBe('edge');
    const bad = await lepton(['vad', quick.path, '--on', 'server'], { LEPTON_SERVER_URL: 'localhost:8080' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(
      "error BAD_REQUEST: option '--server <url>' value 'localhost:8080' from env 'LEPTON_SERVER_URL' is invalid. expected an http:// or https:// URL.\n",
    );
  });
});

describe('lepton errors', () => {
  it('names a missing file', async () => {
    const res = await lepton(['vad', join(tmp, 'missing.wav'), '--on', 'local']);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^error FILE_NOT_FOUND: file .*missing\.wav does not exist/);
  });

  it.each(['local', 'server'])('rejects a file that is not a WAV (--on %s)', async (on) => {
    const notWav = join(tmp, 'notes.wav');
    writeFileSync(notWav, 'these are not audio samples, just text that happens to end in .wav\n');
    const res = await lepton(['vad', notWav, '--on', on, '--server', server!.url]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^error WAV_INVALID: /);
  });

  it('says UPSTREAM_UNAVAILABLE naming the URL when the server cannot be reached', async () => {
    const port = await closedPort();
    const res = await lepton(['vad', quick.path, '--on', 'server', '--server', `http://127.0.0.1:${port}`]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(new RegExp(`^error UPSTREAM_UNAVAILABLE: cannot reach http://127\\.0\\.0\\.1:${port}/api/v1/vad/detect.*ECONNREFUSED`));
  });

  it('rejects bad option values naming the flag', async () => {
    const res = await lepton(['vad', quick.path, '--on', 'local', '--threshold', '1.5']);
    expect(res.code).toBe(1);
    expect(res.stderr).toBe("error BAD_REQUEST: option '--threshold <p>' argument '1.5' is invalid. expected a number in [0, 1].\n");
    const on = await lepton(['vad', quick.path, '--on', 'moon']);
    expect(on.code).toBe(1);
    expect(on.stderr).toMatch(/^error BAD_REQUEST: .*moon/);
  });

  it('says MODEL_NOT_FOUND for a model that is not bundled with --on local', async () => {
    const res = await lepton(['vad', quick.path, '--on', 'local', '--model', 'whisper-tiny']);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^error MODEL_NOT_FOUND: model "whisper-tiny" is not bundled/);
  });
});

describe('lepton --help', () => {
  it('lists the vad command and its options', async () => {
    const res = await lepton(['vad', '--help']);
    expect(res.code).toBe(0);
    for (const flag of ['--on <platform>', '--json', '--server <url>', '--edge <url>', '--model <id>', '--threshold <p>']) {
      expect(res.stdout).toContain(flag);
    }
  });
});
