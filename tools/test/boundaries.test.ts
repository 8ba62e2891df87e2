import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

/** Lint a snippet placed inside a project's src folder; returns the rule ids ESLint reports. */
function lintAs(project: string, source: string): string[] {
  const dir = mkdtempSync(join(root, project, 'src', 'tmp-boundary-'));
  const file = join(dir, 'probe.ts');
  writeFileSync(file, source);
  try {
    const out = execFileSync('npx', ['eslint', '--format', 'json', '--no-warn-ignored', file], { cwd: root, encoding: 'utf8' });
    return (JSON.parse(out) as { messages: { ruleId: string }[] }[]).flatMap((r) => r.messages.map((m) => m.ruleId));
  } catch (err) {
    const out = (err as { stdout?: string }).stdout ?? '[]';
    return (JSON.parse(out) as { messages: { ruleId: string }[] }[]).flatMap((r) => r.messages.map((m) => m.ruleId));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('module boundaries', () => {
  it('rejects node:* and onnxruntime-node in a platform-neutral lib', () => {
    const rules = lintAs('libs/tensor-core', "import { readFileSync } from 'node:fs';\nimport * as ort from 'onnxruntime-node';\nexport const x = [readFileSync, ort];\n");
    expect(rules.filter((r) => r === 'no-restricted-imports').length).toBe(2);
  });

  it('rejects onnxruntime-web and bare Node built-ins in the runtime lib (the ort module is injected)', () => {
    const rules = lintAs('libs/runtime', "import * as ort from 'onnxruntime-web';\nimport { join } from 'path';\nexport const x = [ort, join];\n");
    expect(rules.filter((r) => r === 'no-restricted-imports').length).toBe(2);
  });

  it('rejects DOM globals in a platform-neutral lib', () => {
    const rules = lintAs('libs/contracts', 'export const w = window.location;\n');
    expect(rules).toContain('no-restricted-globals');
  });

  it('rejects a lib importing an app', () => {
    const rules = lintAs('libs/runtime', "import { x } from '@lepton/server';\nexport const y = x;\n");
    expect(rules).toContain('@nx/enforce-module-boundaries');
  });

  it('rejects a neutral lib importing a node lib', () => {
    const rules = lintAs('libs/contracts', "import { bundledModelPath } from '@lepton/node-platform';\nexport const y = bundledModelPath;\n");
    expect(rules).toContain('@nx/enforce-module-boundaries');
  });

  it('accepts a node app importing neutral and node libs', () => {
    const rules = lintAs('apps/cli', "import { DTYPES } from '@lepton/tensor-core';\nimport { bundledModelPath } from '@lepton/node-platform';\nexport const y = [DTYPES, bundledModelPath];\n");
    expect(rules).toEqual([]);
  });
});
