import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'bench/results/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-imports': 'off',
    },
  },
  {
    // The operator dashboard's scripts run in the browser, served as they are.
    files: ['src/admin/dashboard/public/**/*.js'],
    languageOptions: { globals: globals.browser },
  },
  {
    // Kysely's schema builders and the untyped connection that each repository narrows to its own tables.
    files: ['src/platform/db/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Services know no HTTP: they throw the domain errors of platform/errors, and the edge maps them.
    files: ['src/**/*.service.ts', 'src/orders/orders.validation.ts', 'src/catalog/api/*.input.ts', 'src/catalog/api/catalog.sync.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'fastify', message: 'services never import Fastify' }],
          patterns: [{ group: ['**/platform/http/errors.js', '**/platform/http/error-handler.js'], message: 'throw a domain error (platform/errors) instead' }],
        },
      ],
    },
  },
  {
    files: ['src/platform/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/auth/**', '**/orders/**', '**/catalog/**', '**/admin/**', '**/webhooks/**'], message: 'platform never imports a domain module' }] },
      ],
    },
  },
);
