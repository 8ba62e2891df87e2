// Benchmark (not a test): streaming WAV decode and resampling throughput, as multiples of real time.
//   npx tsx libs/tensor-core/test/bench/audio-bench.ts [seconds=60] [chunkBytes=65536]
// Prints measurements only; it never fails on timing.
import { Resampler } from '../../src/audio/resample';
import { WavDecoder } from '../../src/audio/wav';
import { makeWav } from '../support/audio';

const seconds = Number(process.argv[2] ?? 60);
const chunkBytes = Number(process.argv[3] ?? 65536);

function bench(label: string, run: () => number): void {
  const t0 = performance.now();
  const n = run();
  const ms = performance.now() - t0;
  console.log(`${label}: ${seconds} s of audio in ${(ms / 1000).toFixed(2)} s = ${((seconds * 1000) / ms).toFixed(0)}x real time (${n} samples out)`);
}

for (const [from, to] of [
  [48000, 16000],
  [44100, 16000],
  [8000, 16000],
] as const) {
  // One second of a two-tone signal, pushed `seconds` times: the resampler sees one long stream.
  const second = Float32Array.from({ length: from }, (_, i) => 0.3 * Math.sin(i * 0.05) + 0.2 * Math.sin(i * 0.9));
  bench(`resample ${from} -> ${to}`, () => {
    const r = new Resampler(from, to);
    let n = 0;
    for (let s = 0; s < seconds; s++) n += r.push(second).length;
    return n + r.flush().length;
  });
}

// A 48 kHz stereo int16 file, streamed in fixed-size byte chunks (header built once, data repeated).
const secondBytes = new Uint8Array(48000 * 4).map((_, i) => (i * 37) & 0xff);
bench(`wav decode 48 kHz stereo int16 (${chunkBytes}-byte chunks)`, () => {
  const header = makeWav({ channels: 2, rate: 48000, data: new Uint8Array(0), dataSize: 0 });
  const d = new WavDecoder();
  let n = d.push(header).length;
  for (let s = 0; s < seconds; s++) {
    for (let at = 0; at < secondBytes.length; at += chunkBytes) n += d.push(secondBytes.subarray(at, at + chunkBytes)).length;
  }
  d.end();
  return n;
});
