// Lint rules that encode the architecture: small signatures, no stray env reads, layers that only
// depend downwards (api → serving → runtime), and type-aware checks for floating promises.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

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
  {
    files: ['src/**/*.ts'],
    ignores: ['src/runtime/session-worker.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'onnxruntime-node', message: 'Only src/runtime/session-worker.ts touches onnxruntime.' }] },
      ],
    },
  },
  {
    files: ['src/serving/**/*.ts', 'src/runtime/**/*.ts', 'src/tensor/**/*.ts', 'src/onnx/**/*.ts'],
    ignores: ['src/runtime/session-worker.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'onnxruntime-node', message: 'Only src/runtime/session-worker.ts touches onnxruntime.' }],
          patterns: [
            {
              group: ['**/api/**', '**/cli/**', '**/server/**'],
              message: 'Lower layers must not import the transports, the CLI or the composition root.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/config/load-config.ts', 'test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
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
