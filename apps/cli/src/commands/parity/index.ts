import { Command, InvalidArgumentError } from 'commander';
import { ParityPlatformSchema, type ParityPlatform } from '@lepton/api';
import { formatParityReport } from './format-report';
import { runParity } from './run-parity';

function platforms(value: string): ParityPlatform[] {
  const list = value.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = list.filter((p) => !ParityPlatformSchema.safeParse(p).success);
  if (list.length === 0 || bad.length > 0) throw new InvalidArgumentError(`expected a comma-separated subset of server,edge,local,browser; got ${value}.`);
  return [...new Set(list)] as ParityPlatform[];
}

const url = (value: string): string => {
  if (!/^https?:\/\/[^/]/.test(value)) throw new InvalidArgumentError('expected an http:// or https:// URL.');
  return value.replace(/\/+$/, '');
};

/** `lepton parity MODEL INPUTS [--platforms server,edge,local,browser] [--json]`. */
export function registerParityCommand(program: Command, io: { out(text: string): void }): void {
  program
    .command('parity')
    .description('run one model version on several platforms over the same inputs and compare the outputs')
    .argument('<model>', 'registry id (id or id@version) or an .onnx file')
    .argument('<inputs>', '.json wire tensors, a .wav (VAD models), an input_N.pb TensorProto or a folder of them')
    .option('--platforms <list>', 'platforms, the first is the reference', platforms, ['server', 'local'] as ParityPlatform[])
    .option('--json', 'print the parity report as JSON')
    .option('--server <url>', 'server base URL', url, 'http://127.0.0.1:8080')
    .option('--edge <url>', 'edge agent base URL', url, 'http://127.0.0.1:8081')
    .option('--api-key <key>', 'API key for the server, if it asks for one')
    .action(async (model: string, inputs: string, flags: { platforms: ParityPlatform[]; json?: boolean; server: string; edge: string; apiKey?: string }) => {
      const report = await runParity(model, inputs, {
        platforms: flags.platforms,
        server: flags.server,
        edge: flags.edge,
        ...(flags.apiKey ? { apiKey: flags.apiKey } : {}),
      });
      io.out(flags.json ? JSON.stringify(report, null, 1) : formatParityReport(report));
    });
}
