/**
 * Encode mono float32 PCM as a 16-bit little-endian PCM WAV file. Recorded microphone audio goes through this so
 * it takes exactly the same path (bytes -> detectSpeech / vad.detect) as an uploaded file.
 */
export function encodeWav16(samples: Float32Array, sampleRate: number): Uint8Array {
  if (!Number.isInteger(sampleRate) || sampleRate < 1 || sampleRate > 384_000) {
    throw new RangeError(`sampleRate ${sampleRate} is out of range: expected an integer in [1, 384000]`);
  }
  const dataBytes = samples.length * 2;
  const out = new Uint8Array(44 + dataBytes);
  const view = new DataView(out.buffer);
  const ascii = (offset: number, text: string): void => {
    for (let i = 0; i < text.length; i++) out[offset + i] = text.charCodeAt(i);
  };
  ascii(0, 'RIFF');
  view.setUint32(4, 36 + dataBytes, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, 16, true); // fmt chunk size for plain PCM
  view.setUint16(20, 1, true); // WAVE_FORMAT_PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true); // byte rate
  view.setUint16(32, 2, true); // block align
  view.setUint16(34, 16, true); // bits per sample
  ascii(36, 'data');
  view.setUint32(40, dataBytes, true);
  for (let i = 0; i < samples.length; i++) {
    view.setInt16(44 + i * 2, floatToInt16(samples[i]!), true);
  }
  return out;
}

/**
 * Scale by 32768 (the inverse of the shared decoder's int16 / 32768), round to nearest and saturate to the int16
 * range, so a decoded file gives back every sample within half a step. NaN becomes 0 rather than poisoning the file.
 */
export function floatToInt16(x: number): number {
  if (Number.isNaN(x)) return 0;
  return Math.max(-32768, Math.min(32767, Math.round(x * 32768)));
}
