/**
 * `npm run bench -- vad-server [seconds=60] [rounds=5]`: what the server path costs per 32 ms chunk of audio,
 * against a bare onnxruntime-node session.run loop over the same frames, side by side in one process. The server
 * runs in-process on an ephemeral port (SQLite in a temp dir); requests go over real HTTP. Prints medians and
 * ratios; it asserts nothing (timings here are noise in absolute terms, the ratio is the signal).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createTRPCClient, httpLink } from '@trpc/client';
import { Framer, decodeWav } from '@lepton/tensor-core';
import type { AppRouter } from '@lepton/api';
import { bundledModelPath, ortNode, postWavStream } from '@lepton/node-platform';
import { longFixture } from '@lepton/test-fixtures';
import { loadConfig, startServer } from '@lepton/server';

const seconds = Number(process.argv[2] ?? 60);
const rounds = Number(process.argv[3] ?? 5);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The frames the VAD pipeline feeds Silero: 64 samples of context + 512 new, 16 kHz mono. */
function framesOf(wav: Uint8Array): Float32Array[] {
  const { format, samples } = decodeWav(wav);
  if (format.sampleRate !== 16000) throw new Error(`bench fixture is ${format.sampleRate} Hz; expected 16000`);
  const framer = new Framer(512, 64);
  return [...framer.push(samples), ...framer.flush()];
}

async function rawLoop(session: Awaited<ReturnType<typeof ortNode.InferenceSession.create>>, frames: Float32Array[]): Promise<number> {
  const sr = new ortNode.Tensor('int64', BigInt64Array.from([16000n]), []);
  let state = new ortNode.Tensor('float32', new Float32Array(256), [2, 1, 128]);
  const t0 = performance.now();
  for (const frame of frames) {
    const out = await session.run({ input: new ortNode.Tensor('float32', frame, [1, 576]), state, sr });
    state = out['stateN'] as typeof state;
  }
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const file = longFixture(seconds);
  const wav = readFileSync(file);
  const frames = framesOf(wav);
  const dataDir = mkdtempSync(join(tmpdir(), 'lepton-bench-'));
  const server = await startServer(loadConfig({ PORT: '0', LEPTON_DATA_DIR: dataDir, LEPTON_LOG_LEVEL: 'warn' }));
  const client = createTRPCClient<AppRouter>({ links: [httpLink({ url: `${server.url}/trpc` })] });
  const session = await ortNode.InferenceSession.create(bundledModelPath('silero-vad-v5'), {
    graphOptimizationLevel: 'all',
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  });
  const b64 = wav.toString('base64');
  try {
    // Warm-up: load the server's predictor and let V8 compile every path once.
    await client.vad.detect.mutate({ wav: b64 });
    await rawLoop(session, frames.slice(0, 200));
    const raw: number[] = [];
    const trpc: number[] = [];
    const stream: number[] = [];
    for (let r = 0; r < rounds; r++) {
      raw.push(await rawLoop(session, frames));
      let t0 = performance.now();
      const res = await client.vad.detect.mutate({ wav: b64 });
      trpc.push(performance.now() - t0);
      if (res.chunks !== frames.length) throw new Error(`server saw ${res.chunks} chunks; raw loop ${frames.length}`);
      t0 = performance.now();
      await postWavStream(server.url, file);
      stream.push(performance.now() - t0);
    }
    const per = (ms: number) => `${((ms / frames.length) * 1000).toFixed(1)} us/chunk`;
    const rawMs = median(raw);
    console.log(`vad-server: ${seconds} s of 16 kHz audio = ${frames.length} chunks of 32 ms, median of ${rounds} rounds`);
    console.log(`  raw session.run loop        ${per(rawMs)}`);
    console.log(`  tRPC vad.detect (base64)    ${per(median(trpc))}   ratio ${(median(trpc) / rawMs).toFixed(2)}x`);
    console.log(`  POST /api/v1/vad/detect     ${per(median(stream))}   ratio ${(median(stream) / rawMs).toFixed(2)}x`);
  } finally {
    await session.release();
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
