import type { PathRunner } from './paths';

export function leptonBrowserPath(): PathRunner {
  return {
    id: 'lepton-browser',
    label: 'Lepton: wire format -> predictor in headless Chromium (onnxruntime-web)',
    async start() {
      throw new Error('not implemented yet');
    },
    async open() {
      throw new Error('not started');
    },
  };
}
