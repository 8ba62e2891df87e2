import type { Command } from 'commander';
import { inspectModel, type InspectReport } from '@lepton/onnx';
import { loadModel, stdout, type Out } from './files';

/** `lepton inspect MODEL [--json]`: interface, ops, weights and where they live, what each pass could do. */
export function registerInspectCommand(program: Command, out: Out = stdout): Command {
  return program
    .command('inspect')
    .description('describe an ONNX model: inputs/outputs, opsets, op histogram, weights, and what each compression pass could do')
    .argument('<model>', 'ONNX model file')
    .option('--json', 'print the report as JSON')
    .action(async (file: string, flags: { json?: boolean }) => {
      const { proto, size } = await loadModel(file);
      const report = inspectModel(proto);
      out(flags.json ? JSON.stringify({ file, size, ...report }, null, 2) : human(file, size, report));
    });
}

function shape(s: (number | string | null)[] | null): string {
  return s ? `[${s.map((d) => d ?? '?').join(', ')}]` : '[?]';
}

function human(file: string, size: number, r: InspectReport): string {
  const kib = (b: number): string => `${(b / 1024).toFixed(1)} KiB`;
  const lines = [
    `${file}: ${kib(size)}, IR ${r.irVersion}, opsets ${r.opsets.map((o) => `${o.domain || 'ai.onnx'}:${o.version}`).join(', ')}${r.producer ? `, from ${r.producer}` : ''}`,
    ...r.inputs.map((i) => `  input  ${i.name}: ${i.dtype} ${shape(i.shape)}`),
    ...r.outputs.map((o) => `  output ${o.name}: ${o.dtype} ${shape(o.shape)}`),
    `  ${r.nodes} nodes in ${r.subgraphs + 1} graph(s): ${Object.entries(r.ops)
      .sort((a, b) => b[1] - a[1])
      .map(([op, n]) => `${op} ${n}`)
      .join(', ')}`,
    `  ${r.parameters.count} parameters, ${kib(r.parameters.bytes)}: ${Object.entries(r.parameters.byDtype)
      .map(([d, s]) => `${d} ${s.tensors} tensors ${kib(s.bytes)}`)
      .join(', ')}`,
    `  weights live in: ${Object.entries(r.weightLocations)
      .filter(([, s]) => s.tensors > 0)
      .map(([where, s]) => `${where} ${s.tensors} (${kib(s.bytes)})`)
      .join(', ')}`,
    '  passes:',
    ...r.passes.map((p) => `    ${p.applicable ? '+' : '-'} ${p.pass}: ${p.detail}`),
  ];
  return lines.join('\n');
}
