import { Command, InvalidArgumentError, Option } from 'commander';
import { PrecisionSchema, VariantTargetSchema, type Variant, type VariantTarget } from '@lepton/contracts';

type Precision = Variant['precision'];
import { ParityPlatformSchema, type ParityPlatform } from '@lepton/api';
import { formatParityReport } from './format-report';
import { runParity } from './run-parity';

function platforms(value: string): ParityPlatform[] {
  const list = value.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = list.filter((p) => !ParityPlatformSchema.safeParse(p).success);
  if (list.length === 0 || bad.length > 0) throw new InvalidArgumentError(`expected a comma-separated subset of ${ParityPlatformSchema.options.join(',')}; got ${value}.`);
  return [...new Set(list)] as ParityPlatform[];
}

const oneOf =
  <T extends string>(schema: { safeParse(v: unknown): { success: boolean } }, allowed: readonly string[]) =>
  (value: string): T => {
    if (!schema.safeParse(value).success) throw new InvalidArgumentError(`expected one of ${allowed.join(', ')}; got ${value}.`);
    return value as T;
  };

const url = (value: string): string => {
  if (!/^https?:\/\/[^/]/.test(value)) throw new InvalidArgumentError('expected an http:// or https:// URL.');
  return value.replace(/\/+$/, '');
};

/** Exit status of a run whose report says FAIL (1 stays for a command that could not run). */
export const PARITY_FAILED_EXIT = 2;

/**
 * `lepton parity MODEL INPUTS [--platforms server,edge,local,browser,browser-webgpu] [--json]`. A report that fails sets exit
 * status 2 through `io.exit` (scripts and CI can gate on it without parsing the JSON).
 */
export function registerParityCommand(program: Command, io: { out(text: string): void; exit?(code: number): void }): void {
  program
    .command('parity')
    .description('run one model version on several platforms over the same inputs and compare the outputs')
    .argument('<model>', 'registry id (id or id@version) or an .onnx file')
    .argument('<inputs>', '.json wire tensors, a .wav (VAD models), an input_N.pb TensorProto or a folder of them')
    .option('--platforms <list>', 'platforms, the first is the reference', platforms, ['server', 'local'] as ParityPlatform[])
    .option('--json', 'print the parity report as JSON')
    .addOption(new Option('--server <url>', 'server base URL').env('LEPTON_SERVER_URL').argParser(url).default('http://127.0.0.1:8080'))
    .addOption(new Option('--edge <url>', 'edge agent base URL').env('LEPTON_EDGE_URL').argParser(url).default('http://127.0.0.1:8081'))
    .addOption(new Option('--api-key <key>', 'API key for the server, if it asks for one').env('LEPTON_API_KEY'))
    .option('--variant <id>', "the variant every platform runs, by id (e.g. int8-edge); default the fp32 model")
    .option('--precision <p>', 'or the variant of this precision (as variants.choose)', oneOf<Precision>(PrecisionSchema, PrecisionSchema.options))
    .option('--target <t>', 'or the variant built for this target (as variants.choose)', oneOf<VariantTarget>(VariantTargetSchema, VariantTargetSchema.options))
    .option('--compare-fp32', "also report each platform's difference from the fp32 model")
    .action(async (model: string, inputs: string, flags: ParityFlags) => {
      const variant = {
        ...(flags.variant ? { variant: flags.variant } : {}),
        ...(flags.precision ? { precision: flags.precision } : {}),
        ...(flags.target ? { target: flags.target } : {}),
      };
      const report = await runParity(model, inputs, {
        platforms: flags.platforms,
        server: flags.server,
        edge: flags.edge,
        ...(flags.apiKey ? { apiKey: flags.apiKey } : {}),
        variant,
        ...(flags.compareFp32 ? { compareFp32: true } : {}),
      });
      io.out(flags.json ? JSON.stringify(report, null, 1) : formatParityReport(report));
      if (!report.pass) io.exit?.(PARITY_FAILED_EXIT);
    });
}

interface ParityFlags {
  platforms: ParityPlatform[];
  json?: boolean;
  server: string;
  edge: string;
  apiKey?: string;
  variant?: string;
  precision?: Precision;
  target?: VariantTarget;
  compareFp32?: boolean;
}
