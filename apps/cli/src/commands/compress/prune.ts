import { InvalidArgumentError, type Command } from 'commander';
import { pruneWeights } from '@lepton/onnx';
import { list, loadModel, saveModel, stdout, type Out } from './files';

/** `lepton prune IN -o OUT --sparsity S`. */
export function registerPruneCommand(program: Command, out: Out = stdout): Command {
  return program
    .command('prune')
    .description('magnitude-prune the weights of an ONNX model to a target sparsity (unstructured)')
    .argument('<in>', 'ONNX model file')
    .requiredOption('-o, --output <file>', 'where to write the pruned model')
    .requiredOption('--sparsity <s>', 'fraction of each weight tensor set to zero, in [0, 1)', (v: string) => {
      const n = Number(v);
      if (v.trim() === '' || !(n >= 0 && n < 1)) throw new InvalidArgumentError('expected a number in [0, 1).');
      return n;
    })
    .option('--exclude <names>', 'comma-separated weight names to leave dense', list)
    .option('--json', 'print the pass report as JSON')
    .action(async (file: string, flags: { output: string; sparsity: number; exclude?: string[]; json?: boolean }) => {
      const { proto } = await loadModel(file);
      const r = pruneWeights(proto, { sparsity: flags.sparsity, exclude: flags.exclude ?? [] });
      saveModel(flags.output, r.proto);
      if (flags.json) out(JSON.stringify({ input: file, output: flags.output, report: r.report }, null, 2));
      else {
        out(`${file} -> ${flags.output}: ${r.report.tensors.length} tensors pruned, overall sparsity ${(r.report.overallSparsity * 100).toFixed(1)} %`);
        for (const t of r.report.tensors) out(`  ${t.name} [${t.shape.join(', ')}]: ${(t.sparsity * 100).toFixed(1)} % zeros (|w| <= ${t.threshold.toPrecision(3)})`);
      }
    });
}
