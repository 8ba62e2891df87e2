import { CommanderError, type Command } from 'commander';
import { isLeptonError } from '@lepton/tensor-core';
import { createProgram } from './program';

/**
 * Entry point of `lepton` (bin/lepton.mjs). Every failure ends the same way: `error CODE: message` on stderr and
 * exit status 1, so scripts can match on the code.
 */
function silent(): void {
  /* reported by main in our own format */
}

async function main(argv: string[]): Promise<number> {
  const program = createProgram({ out: (text) => process.stdout.write(`${text}\n`) });
  (await import('./commands/compress/inspect')).registerInspectCommand(program);
  (await import('./commands/compress/quantize')).registerQuantizeCommand(program);
  (await import('./commands/compress/convert')).registerConvertCommand(program);
  (await import('./commands/compress/prune')).registerPruneCommand(program);
  (await import('./commands/compress/eval')).registerEvalCommand(program);
  (await import('./commands/loadtest')).registerLoadtestCommand(program, { out: (text) => process.stdout.write(`${text}\n`) });
  // A command that ran but has a verdict to report (parity FAIL) sets its own exit status.
  let verdict = 0;
  (await import('./commands/parity')).registerParityCommand(program, { out: (text) => process.stdout.write(`${text}\n`), exit: (code) => (verdict = code) });
  (await import('./commands/fleet')).registerFleetCommands(program, { out: (text) => process.stdout.write(`${text}\n`) });
  (await import('./commands/infer')).registerInferCommand(program, { out: (text) => process.stdout.write(`${text}\n`) });
  // Commander's own usage errors are reported in our format too, not printed by commander.
  // Nested ones too (`devices token create`, `deployments status`): commander would print its own line first.
  const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
  for (const cmd of all(program)) {
    cmd.exitOverride();
    cmd.configureOutput({ outputError: silent });
  }
  try {
    await program.parseAsync(argv);
    return verdict;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return 0; // --help, --version
      // `lepton` or `lepton devices` without a command: commander has printed the usage on stderr.
      if (err.code === 'commander.help') {
        process.stderr.write('error BAD_REQUEST: expected a command (usage above)\n');
        return 1;
      }
      process.stderr.write(`error BAD_REQUEST: ${err.message.replace(/^error: /, '')}\n`);
      return 1;
    }
    const code = isLeptonError(err) ? err.code : 'INTERNAL';
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`error ${code}: ${message}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv);
