/**
 * The web dashboard's files (built by Vite from `dashboard/` into `dist/dashboard/`), served at `/`
 * by @fastify/static. They are public, like the API reference: the page holds no data, it reads the
 * management API, whose routes carry their own permissions.
 */
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Where the build puts the dashboard: `<package>/dist/dashboard`, found from this module in
 * `src/api/http/` (tests, tsx) and in `dist/api/http/` (the compiled package) alike.
 */
export const DASHBOARD_DIR = resolve(import.meta.dirname, '../../../dist/dashboard');

/**
 * Registers the dashboard's files, one route per file (no wildcard route to shadow the API's
 * 404s), when the folder holds a built dashboard. Returns whether it did.
 */
export function registerDashboard(app: FastifyInstance, options: { readonly dir?: string } = {}): boolean {
  const dir = options.dir ?? DASHBOARD_DIR;
  if (!existsSync(join(dir, 'index.html'))) return false;
  app.register(fastifyStatic, { root: dir, wildcard: false, prefix: '/', index: 'index.html' });
  return true;
}

/** Whether a route is one of the dashboard's files (@fastify/static names the folder in the route's config). */
export function isDashboardAsset(route: { readonly config?: unknown }, dir: string = DASHBOARD_DIR): boolean {
  const rootPath = (route.config as { rootPath?: unknown } | undefined)?.rootPath;
  return typeof rootPath === 'string' && resolve(rootPath) === resolve(dir);
}
