import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Real speech for the VAD tests: espeak-ng sentences trimmed of their own silence and padded with exactly 1 s of
// digital silence on each side by sox, so the speech bounds are known; plus the alsa-utils WAVs. Files are
// generated once into a cache folder of this package's own (tmp + rename, so parallel runs never see half a file).

export const ALSA_DIR = '/usr/share/sounds/alsa';
export const ALSA_SPEECH = ['Front_Center', 'Front_Left', 'Front_Right', 'Rear_Center', 'Rear_Left', 'Rear_Right', 'Side_Left', 'Side_Right'].map(
  (f) => join(ALSA_DIR, `${f}.wav`),
);
export const ALSA_NOISE = join(ALSA_DIR, 'Noise.wav');

const SENTENCES = {
  quick: 'The quick brown fox jumps over the lazy dog.',
  weather: 'Tomorrow will be sunny with a light breeze from the west.',
} as const;

const cache = join(process.env['LEPTON_FIXTURE_DIR'] ?? join(tmpdir(), 'lepton-fixtures'), 'runtime');

export function audioToolsAvailable(): boolean {
  return existsSync(ALSA_NOISE) && existsSync('/usr/bin/espeak-ng') && existsSync('/usr/bin/sox');
}

function make(out: string, build: (tmp: string) => void): string {
  if (!existsSync(out)) {
    mkdirSync(cache, { recursive: true });
    const tmp = `${out}.${process.pid}.tmp.wav`;
    build(tmp);
    renameSync(tmp, out);
  }
  return out;
}

export interface SpeechFixture {
  path: string;
  speechStart: number;
  speechEnd: number;
}

export interface FixtureFormat {
  rate?: number;
  bits?: 8 | 16 | 24 | 32;
  channels?: 1 | 2;
  encoding?: 'signed-integer' | 'unsigned-integer' | 'floating-point';
}

export function speechFixture(name: keyof typeof SENTENCES, f: FixtureFormat = {}): SpeechFixture {
  const rate = f.rate ?? 16000;
  const bits = f.bits ?? 16;
  const channels = f.channels ?? 1;
  const encoding = f.encoding ?? (bits === 8 ? 'unsigned-integer' : 'signed-integer');
  const raw = make(join(cache, `${name}-raw.wav`), (tmp) => {
    const spoken = `${tmp}.espeak.wav`;
    execFileSync('espeak-ng', ['-v', 'en-us', '-s', '150', '-w', spoken, SENTENCES[name]]);
    execFileSync('sox', [spoken, tmp, 'silence', '1', '0.01', '0.1%', 'reverse', 'silence', '1', '0.01', '0.1%', 'reverse']);
  });
  const path = make(join(cache, `${name}-${rate}-${bits}-${channels}-${encoding}.wav`), (tmp) => {
    execFileSync('sox', [raw, '-r', String(rate), '-b', String(bits), '-c', String(channels), '-e', encoding, tmp, 'pad', '1', '1']);
  });
  const total = Number(execFileSync('soxi', ['-D', path], { encoding: 'utf8' }).trim());
  return { path, speechStart: 1, speechEnd: total - 1 };
}

/** `seconds` of quiet pink noise at 16 kHz, 16-bit (streaming and memory tests). */
export function noiseFixture(seconds: number): string {
  return make(join(cache, `noise-${seconds}.wav`), (tmp) => {
    execFileSync('sox', ['-n', '-r', '16000', '-b', '16', '-c', '1', tmp, 'synth', String(seconds), 'pinknoise', 'vol', '0.02']);
  });
}
