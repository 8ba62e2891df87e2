/**
 * What this browser can do, computed once at start-up and frozen; the rest of the app reads this object instead
 * of sniffing globals again.
 */
export interface BrowserEnv {
  /** Microphone capture needs getUserMedia (secure context) and AudioWorklet. */
  readonly microphone: boolean;
  /**
   * navigator.gpu exists. The VAD view stays on WASM (the browser computes what the server computes); the parity
   * page offers WebGPU as its own platform, browser-webgpu.
   */
  readonly webgpu: boolean;
  readonly hardwareConcurrency: number;
  readonly crossOriginIsolated: boolean;
}

function detect(): BrowserEnv {
  const nav = typeof navigator === 'undefined' ? undefined : navigator;
  const microphone =
    typeof nav?.mediaDevices?.getUserMedia === 'function' && typeof globalThis.AudioWorkletNode === 'function';
  return Object.freeze({
    microphone,
    webgpu: nav !== undefined && 'gpu' in nav,
    hardwareConcurrency: nav?.hardwareConcurrency ?? 1,
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
  });
}

export const browserEnv: BrowserEnv = detect();
