import { fileURLToPath } from 'node:url';
import { defaultClientConditions, defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

// The server serves dist/ at '/', and onnxruntime-web's .wasm/.mjs files at '/ort/' (ort.env.wasm.wasmPaths),
// so the bundle never reaches for a CDN. Workspace libraries are consumed from source via '@lepton/source';
// Vite's default client conditions are kept so packages still resolve their browser builds.
// 'onnxruntime-web-use-extern-wasm' picks the ort build that loads its Emscripten glue (.mjs) from wasmPaths too,
// instead of the bundle build, whose `new URL('*.wasm', import.meta.url)` would copy a 28 MB binary into dist/.
export default defineConfig({
  root,
  base: '/',
  resolve: { conditions: ['@lepton/source', 'onnxruntime-web-use-extern-wasm', ...defaultClientConditions] },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 2048,
  },
});
