import { InvalidArgumentError, Option, type Command } from 'commander';
import { pruneWeights, stampSessionOptions } from '@lepton/onnx';
import { list, loadModel, saveModel, stdout, type Out } from './files';
import { sessionLine } from './session';

/** `lepton prune IN -o OUT --sparsity S [--mode unstructured|channels]`; the output records the session options it needs. */
export function registerPruneCommand(program: Command, out: Out = stdout): Command {
  return program
    .command('prune')
    .description('magnitude-prune the weights of an ONNX model to a target sparsity (unstructured, or whole channels where safe)')
    .argument('<in>', 'ONNX model file')
    .requiredOption('-o, --output <file>', 'where to write the pruned model')
    .requiredOption('--sparsity <s>', 'fraction of each weight tensor set to zero, in [0, 1)', (v: string) => {
      const n = Number(v);
      if (v.trim() === '' || !(n >= 0 && n < 1)) throw new InvalidArgumentError('expected a number in [0, 1).');
      return n;
    })
    .addOption(new Option('--mode <mode>', 'unstructured: zeros in place; channels: remove whole channels where safe').choices(['unstructured', 'channels']).default('unstructured'))
    .option('--exclude <names>', 'comma-separated weight names to leave dense', list)
    .option('--json', 'print the pass report as JSON')
    .action(async (file: string, flags: { output: string; sparsity: number; mode: 'unstructured' | 'channels'; exclude?: string[]; json?: boolean }) => {
      const { proto, size } = await loadModel(file);
      const r = pruneWeights(proto, { sparsity: flags.sparsity, mode: flags.mode, exclude: flags.exclude ?? [] });
      const sessionOptions = stampSessionOptions(r.proto) ?? null;
      const written = saveModel(flags.output, r.proto);
      if (flags.json) out(JSON.stringify({ input: file, output: flags.output, bytesBefore: size, bytesAfter: written, sessionOptions, report: r.report }, null, 2));
      else if (flags.mode === 'channels') {
        out(`${file} -> ${flags.output}: ${r.report.channels.length} layer pairs pruned, ${size} -> ${written} bytes, ${(r.report.overallSparsity * 100).toFixed(1)} % of their weights removed`);
        for (const c of r.report.channels) out(`  ${c.producer} -> ${c.consumer}: ${c.channelsBefore} -> ${c.channelsAfter} channels (removed ${c.removed.join(', ')})`);
        for (const note of r.report.notes) out(`  kept: ${note}`);
      } else {
        out(`${file} -> ${flags.output}: ${r.report.tensors.length} tensors pruned, overall sparsity ${(r.report.overallSparsity * 100).toFixed(1)} %`);
        for (const t of r.report.tensors) out(`  ${t.name} [${t.shape.join(', ')}]: ${(t.sparsity * 100).toFixed(1)} % zeros (|w| <= ${t.threshold.toPrecision(3)})`);
      }
      if (!flags.json) out(sessionLine(sessionOptions));
    });
}
