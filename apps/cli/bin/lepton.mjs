#!/usr/bin/env node
// The `lepton` command. Sources are TypeScript (libraries are consumed from source across the workspace), so
// tsx's loader is registered before the entry point is imported.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
