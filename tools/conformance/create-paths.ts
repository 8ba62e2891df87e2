import * as ortNode from 'onnxruntime-node';
import type { OrtModule } from '@lepton/runtime';
import { leptonServerPath } from './lepton-server-path';
import { leptonBrowserPath } from './lepton-browser-path';
import { ortWebWebgpuPath } from './ort-web-webgpu-path';
import { rawOrtPath, type PathId, type PathRunner } from './paths';

/** The paths a plain run (and CI's `--strict`) takes. */
export const PATH_IDS: PathId[] = ['ort-node', 'ort-web', 'lepton-server', 'lepton-browser'];

/**
 * Every path `--paths` accepts, in run order (raw runtimes first, so Lepton's are read against them). The WebGPU
 * pair is opt-in: each test model compiles its shaders on SwiftShader in headless Chromium, too slow for CI.
 */
export const ALL_PATH_IDS: PathId[] = ['ort-node', 'ort-web', 'ort-web-webgpu', 'lepton-server', 'lepton-browser', 'lepton-browser-webgpu'];

export interface CreatePathsOptions {
  /** Launch the browser paths' Chromium with WebGPU (default true); false makes the WebGPU paths unable to start. */
  webgpu?: boolean;
}

/** Runners for the chosen paths, in ALL_PATH_IDS order. */
export async function createPaths(ids: readonly PathId[], opts: CreatePathsOptions = {}): Promise<PathRunner[]> {
  // Test models trip onnxruntime's warnings (initializers listed as inputs) and expected load errors; the report
  // records every failure's message, so the native logger only needs to speak for crashes.
  ortNode.env.logLevel = 'fatal';
  const browser = opts.webgpu !== undefined ? { webgpu: opts.webgpu } : {};
  const out: PathRunner[] = [];
  for (const id of ALL_PATH_IDS.filter((p) => ids.includes(p))) {
    if (id === 'ort-node') out.push(rawOrtPath('ort-node', 'raw onnxruntime-node 1.30 (CPU)', ortNode as unknown as OrtModule));
    if (id === 'ort-web') {
      // onnxruntime-web's Node build runs the same WASM kernels as the browser; one thread, as our web app uses.
      const ortWeb = await import('onnxruntime-web');
      ortWeb.env.wasm.numThreads = 1;
      ortWeb.env.logLevel = 'fatal';
      out.push(rawOrtPath('ort-web', 'raw onnxruntime-web 1.30 (WASM, in Node)', ortWeb as unknown as OrtModule, ['wasm']));
    }
    if (id === 'ort-web-webgpu') out.push(ortWebWebgpuPath(browser));
    if (id === 'lepton-server') out.push(leptonServerPath());
    if (id === 'lepton-browser') out.push(leptonBrowserPath(browser));
    if (id === 'lepton-browser-webgpu') out.push(leptonBrowserPath({ ...browser, executionProvider: 'webgpu' }));
  }
  return out;
}
