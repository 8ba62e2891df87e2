import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

// Nx no longer reads workspace.json; we keep it as an index for people and tools, so it must not drift.
describe('workspace.json', () => {
  it('lists exactly the projects Nx discovers, at their roots', () => {
    const index = JSON.parse(readFileSync(resolve(root, 'workspace.json'), 'utf8')) as { projects: Record<string, string> };
    const file = join(mkdtempSync(join(tmpdir(), 'lepton-graph-')), 'graph.json');
    execFileSync('npx', ['nx', 'graph', `--file=${file}`], {
      cwd: root,
      env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
      stdio: 'ignore',
    });
    const graph = JSON.parse(readFileSync(file, 'utf8')) as { graph: { nodes: Record<string, { data: { root: string } }> } };
    const roots = Object.fromEntries(Object.entries(graph.graph.nodes).map(([name, node]) => [name, node.data.root]));
    expect(index.projects).toEqual(roots);
  });
});
