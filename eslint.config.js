// Lint rules that encode the architecture: small signatures, no stray env reads, layers that only
// depend downwards (api → serving → runtime), and type-aware checks for floating promises.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The folders of src/ and the folders each may import, lowest first. A folder may import only the
 * folders it lists, so the design reads off this table and no two folders can import each other
 * (checked below when the config loads). Type-only imports count too.
 */
const LAYERS = {
  util: [],
  errors: [],
  logging: [],
  random: [],
  tensor: ['errors'],
  config: ['errors'],
  examples: [],
  // The hash-chained audit log's records, hashing and verification (issue 13): below the store.
  audit: ['errors'],
  tls: ['config', 'errors', 'logging'],
  // Alert rules, their evaluation and webhook delivery (issue 12): on the metrics registry only.
  alerts: ['errors', 'logging'],
  runtime: ['errors', 'logging', 'tensor'],
  artifacts: ['errors', 'logging'],
  store: ['audit', 'errors', 'logging', 'tensor'],
  queue: ['errors', 'logging', 'store', 'util'],
  onnx: ['errors', 'random', 'tensor'],
  monitor: ['errors', 'logging', 'tensor', 'util'],
  explain: ['errors', 'onnx', 'tensor'],
  data: ['errors', 'logging', 'random', 'runtime', 'store'],
  serving: ['config', 'errors', 'explain', 'logging', 'monitor', 'onnx', 'random', 'runtime', 'tensor'],
  features: ['data', 'errors', 'logging', 'onnx', 'random', 'tensor'],
  registry: ['artifacts', 'errors', 'explain', 'logging', 'onnx', 'serving', 'store', 'tensor'],
  train: [
    'artifacts',
    'data',
    'errors',
    'explain',
    'features',
    'logging',
    'monitor',
    'onnx',
    'random',
    'registry',
    'runtime',
    'store',
    'tensor',
    'util',
  ],
  // Retraining pipelines (issue 12): their specs, kept and started as jobs; the runner is a job kind (jobs/pipeline).
  pipelines: ['config', 'errors', 'logging', 'queue', 'registry', 'store', 'train'],
  security: ['config', 'errors', 'logging', 'store'],
  deploy: [
    'artifacts',
    'config',
    'errors',
    'logging',
    'monitor',
    'onnx',
    'registry',
    'runtime',
    'serving',
    'store',
    'tensor',
    'util',
  ],
  jobs: [
    'artifacts',
    'audit',
    'config',
    'data',
    'deploy',
    'errors',
    'features',
    'logging',
    'monitor',
    'onnx',
    'pipelines',
    'queue',
    'random',
    'registry',
    'runtime',
    'serving',
    'store',
    'tensor',
    'train',
  ],
  drift: ['data', 'errors', 'jobs', 'logging', 'runtime', 'store'],
  api: [
    'alerts',
    'audit',
    'config',
    'deploy',
    'drift',
    'errors',
    'jobs',
    'logging',
    'monitor',
    'pipelines',
    'queue',
    'registry',
    'security',
    'serving',
    'store',
    'tensor',
    'train',
  ],
  client: ['artifacts', 'deploy', 'errors', 'pipelines', 'queue', 'registry', 'store', 'tensor'],
  server: [
    'alerts',
    'audit',
    'api',
    'artifacts',
    'audit',
    'config',
    'deploy',
    'drift',
    'errors',
    'jobs',
    'logging',
    'monitor',
    'pipelines',
    'queue',
    'registry',
    'runtime',
    'security',
    'serving',
    'store',
    'tensor',
    'tls',
  ],
  cli: [
    'audit',
    'api',
    'artifacts',
    'audit',
    'client',
    'config',
    'data',
    'deploy',
    'errors',
    'examples',
    'explain',
    'features',
    'jobs',
    'logging',
    'monitor',
    'onnx',
    'pipelines',
    'queue',
    'registry',
    'runtime',
    'security',
    'server',
    'serving',
    'store',
    'tensor',
    'train',
  ],
};

/** Dependency-free helpers every folder may use. */
const SHARED = ['util'];

const ONNXRUNTIME_ONLY_IN_WORKER = {
  name: 'onnxruntime-node',
  message: 'Only src/runtime/ort-session.ts touches onnxruntime.',
};

/** One no-restricted-imports entry per folder: the folders it does not list are forbidden. */
function layerRules() {
  const folders = Object.keys(LAYERS);
  const mayImport = (folder) => [...SHARED, ...LAYERS[folder]];
  folders.forEach((folder, rank) => {
    for (const dependency of LAYERS[folder]) {
      const dependencyRank = folders.indexOf(dependency);
      if (dependencyRank < 0) throw new Error(`eslint layers: ${folder} lists unknown folder ${dependency}`);
      if (dependencyRank >= rank)
        throw new Error(`eslint layers: ${folder} may not import ${dependency}, a higher layer`);
    }
  });
  const rule = (folder, withOnnxruntime) => [
    'error',
    {
      paths: withOnnxruntime ? [] : [ONNXRUNTIME_ONLY_IN_WORKER],
      patterns: [
        {
          group: folders
            .filter((other) => other !== folder && !mayImport(folder).includes(other))
            .map((other) => `**/${other}/**`),
          message: `src/${folder} may import only ${mayImport(folder).join(', ') || 'nothing else in src'} (the layer table in eslint.config.js).`,
        },
      ],
    },
  ];
  return [
    ...folders.map((folder) => ({
      files: [`src/${folder}/**/*.ts`],
      rules: { 'no-restricted-imports': rule(folder, false) },
    })),
    { files: ['src/runtime/ort-session.ts'], rules: { 'no-restricted-imports': rule('runtime', true) } },
    {
      files: ['src/*.ts'],
      rules: { 'no-restricted-imports': ['error', { paths: [ONNXRUNTIME_ONLY_IN_WORKER] }] },
    },
  ];
}

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'coverage/', '.stratum/', '.tmp/', 'bench/results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      'max-params': ['error', 3],
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read configuration through src/config (loadConfig).' },
      ],
    },
  },
  ...layerRules(),
  {
    // A reader should see a whole function at once; long factories split into named parts.
    files: ['src/**/*.ts'],
    rules: { 'max-lines-per-function': ['error', { max: 150, skipBlankLines: true, skipComments: true }] },
  },
  {
    files: [
      'src/config/load-config.ts',
      'src/config/env-secrets.ts',
      'test/**/*.ts',
      'bench/**/*.ts',
      'scripts/**/*.ts',
    ],
    rules: { 'no-restricted-properties': 'off' },
  },
  { files: ['**/*.js', '**/*.cjs'], ...tseslint.configs.disableTypeChecked },
  {
    // Plain Node scripts that run without the TypeScript toolchain (the CLI shim, install and build steps).
    files: ['bin/**/*.js', 'scripts/**/*.js', 'scripts/**/*.cjs', 'bench/**/*.js'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        require: 'readonly',
        __dirname: 'readonly',
        URL: 'readonly',
        performance: 'readonly',
      },
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
