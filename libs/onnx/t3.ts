import { readFileSync, writeFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { convertFloat16 } from './src';
for (const [p, out] of [['/work/main/node_modules/@ricky0123/vad-web/dist/silero_vad_v5.onnx','/tmp/sil_f16.onnx'],['/work/shared/models/mnist-8.onnx','/tmp/mn_f16.onnx']]) {
  const b = new Uint8Array(readFileSync(p));
  const t = performance.now();
  const r = convertFloat16(b);
  const { keptFp32Nodes, ...rest } = r.report;
  console.log(p, 'ms', performance.now()-t, r.model.length / b.length, rest, keptFp32Nodes.length, keptFp32Nodes.slice(0,5));
  writeFileSync(out, r.model);
  const s = await ort.InferenceSession.create(r.model);
  console.log(s.inputNames, s.outputNames);
}
