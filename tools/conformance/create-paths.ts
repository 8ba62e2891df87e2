import * as ortNode from 'onnxruntime-node';
import type { OrtModule } from '@lepton/runtime';
import { leptonServerPath } from './lepton-server-path';
import { leptonBrowserPath } from './lepton-browser-path';
import { rawOrtPath, type PathId, type PathRunner } from './paths';

export const PATH_IDS: PathId[] = ['ort-node', 'ort-web', 'lepton-server', 'lepton-browser'];

/** Runners for the chosen paths, in a fixed order (raw runtimes first, so Lepton's are read against them). */
export async function createPaths(ids: readonly PathId[]): Promise<PathRunner[]> {
  // Test models trip onnxruntime's warnings (initializers listed as inputs) and expected load errors; the report
  // records every failure's message, so the native logger only needs to speak for crashes.
  ortNode.env.logLevel = 'fatal';
  const out: PathRunner[] = [];
  for (const id of PATH_IDS.filter((p) => ids.includes(p))) {
    if (id === 'ort-node') out.push(rawOrtPath('ort-node', 'raw onnxruntime-node 1.30 (CPU)', ortNode as unknown as OrtModule));
    if (id === 'ort-web') {
      // onnxruntime-web's Node build runs the same WASM kernels as the browser; one thread, as our web app uses.
      const ortWeb = await import('onnxruntime-web');
      ortWeb.env.wasm.numThreads = 1;
      ortWeb.env.logLevel = 'fatal';
      out.push(rawOrtPath('ort-web', 'raw onnxruntime-web 1.30 (WASM, in Node)', ortWeb as unknown as OrtModule, ['wasm']));
    }
    if (id === 'lepton-server') out.push(leptonServerPath());
    if (id === 'lepton-browser') out.push(leptonBrowserPath());
  }
  return out;
}
