import nx from '@nx/eslint-plugin';

// Platform-neutral code (tensor-core, contracts, runtime, api) must run unchanged on Node, in browsers and on
// devices: no node:* modules, no native or web onnxruntime (the module is injected), no DOM globals.
const neutralBans = {
  'no-restricted-imports': [
    'error',
    {
      patterns: [
        { group: ['node:*'], message: 'Platform-neutral libraries must not import Node built-ins.' },
        { group: ['onnxruntime-node', 'onnxruntime-web'], message: 'Inject the onnxruntime module instead.' },
      ],
      paths: ['fs', 'path', 'os', 'crypto', 'stream', 'buffer', 'child_process', 'worker_threads', 'http'].map(
        (name) => ({ name, message: 'Platform-neutral libraries must not import Node built-ins.' }),
      ),
    },
  ],
  'no-restricted-globals': [
    'error',
    ...['window', 'document', 'navigator', 'localStorage', 'process', 'Buffer', '__dirname', 'require'].map(
      (name) => ({ name, message: `${name} is platform specific; pass what you need in.` }),
    ),
  ],
};

/**
 * Which projects may import which. Tests of a platform-neutral lib may also use @lepton/test-fixtures (real audio
 * and other Node-only test inputs), which depends on no other Lepton package.
 */
function boundaries(forTests) {
  const testing = forTests ? ['scope:testing'] : [];
  return {
    enforceBuildableLibDependency: false,
    allow: [],
    depConstraints: [
      { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
      { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
      { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:lib', 'type:app'] },
      { sourceTag: 'scope:testing', onlyDependOnLibsWithTags: [] },
      { sourceTag: 'platform:neutral', onlyDependOnLibsWithTags: ['platform:neutral', ...testing] },
      { sourceTag: 'platform:node', onlyDependOnLibsWithTags: ['platform:neutral', 'platform:node'] },
      { sourceTag: 'platform:browser', onlyDependOnLibsWithTags: ['platform:neutral', 'platform:browser', ...testing] },
    ],
  };
}

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  {
    ignores: ['**/dist', '**/node_modules', '**/.nx', 'apps/server/public', '**/vite.config.*.timestamp*'],
  },
  {
    files: ['**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': ['error', boundaries(false)],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['libs/tensor-core/src/**/*.ts', 'libs/contracts/src/**/*.ts', 'libs/runtime/src/**/*.ts', 'libs/onnx/src/**/*.ts', 'libs/api/src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: neutralBans,
  },
  {
    files: ['**/*.test.ts', '**/test/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': ['error', boundaries(true)] },
  },
];
