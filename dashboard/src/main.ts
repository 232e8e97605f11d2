/**
 * The dashboard: a hash router over a few pages, each drawn from the management API, redrawn every
 * few seconds while it is shown (live pages: deployments, drift, quality, alerts) and when the hash
 * changes. A 401 anywhere shows the sign-in form.
 */
import { SignInRequired } from './api.ts';
import { destroyChartsIn } from './charts.ts';
import { h } from './dom.ts';
import type { Page } from './page.ts';
import { alertsPage } from './pages/alerts.ts';
import { datasetPage, datasetsPage } from './pages/datasets.ts';
import { deploymentPage, deploymentsPage } from './pages/deployments.ts';
import { driftPage } from './pages/drift.ts';
import { modelPage, modelsPage, versionPage } from './pages/models.ts';
import { pipelinePage, pipelineRunPage, pipelinesPage } from './pages/pipelines.ts';
import { qualityPage } from './pages/quality.ts';
import { comparePage, runPage, runsPage } from './pages/runs.ts';
import { signInForm } from './sign-in.ts';
import './style.css';

/** Routes: a pattern of the hash path (`:name` segments) and its page. */
const ROUTES: readonly (readonly [string, Page])[] = [
  ['/deployments', deploymentsPage],
  ['/deployments/:name', deploymentPage],
  ['/deployments/:name/drift', driftPage],
  ['/deployments/:name/quality', qualityPage],
  ['/models', modelsPage],
  ['/models/:model', modelPage],
  ['/models/:model/versions/:version', versionPage],
  ['/runs', runsPage],
  ['/runs/compare', comparePage],
  ['/runs/:id', runPage],
  ['/datasets', datasetsPage],
  ['/datasets/:version', datasetPage],
  ['/pipelines', pipelinesPage],
  ['/pipelines/:name', pipelinePage],
  ['/pipeline-runs/:id', pipelineRunPage],
  ['/alerts', alertsPage],
];

const NAV = [
  ['Deployments', '/deployments'],
  ['Models', '/models'],
  ['Runs', '/runs'],
  ['Datasets', '/datasets'],
  ['Pipelines', '/pipelines'],
  ['Alerts', '/alerts'],
] as const;

const REFRESH_MS = 5000;

const app = document.getElementById('app') as HTMLElement;
const nav = document.getElementById('nav') as HTMLElement;
const refreshLabel = document.getElementById('refresh') as HTMLElement;
let timer: ReturnType<typeof setTimeout> | undefined;
let generation = 0;

function match(path: string): { page: Page; params: Record<string, string> } | undefined {
  const parts = path.split('/').filter(Boolean);
  for (const [pattern, page] of ROUTES) {
    const want = pattern.split('/').filter(Boolean);
    if (want.length !== parts.length) continue;
    const params: Record<string, string> = {};
    const ok = want.every((w, i) => {
      const part = parts[i] as string;
      if (w.startsWith(':')) {
        params[w.slice(1)] = decodeURIComponent(part);
        return true;
      }
      return w === part;
    });
    if (ok) return { page, params };
  }
  return undefined;
}

function drawNav(path: string): void {
  nav.replaceChildren(
    ...NAV.map(([title, target]) =>
      h('a', { href: `#${target}`, class: path.startsWith(target) ? 'active' : undefined }, title),
    ),
  );
}

/** Replaces what the page shows, destroying the charts of what it showed. */
function show(element: HTMLElement): void {
  destroyChartsIn(app);
  app.replaceChildren(element);
}

/** Draws the page of the current hash; `quiet` redraws keep the old page until the new one is ready. */
async function draw(quiet: boolean): Promise<void> {
  const mine = ++generation;
  if (timer !== undefined) clearTimeout(timer);
  const [path = '/deployments', query = ''] = (location.hash.slice(1) || '/deployments').split('?');
  drawNav(path);
  const found = match(path);
  if (found === undefined) {
    show(h('p', {}, `No page ${path}.`));
    return;
  }
  if (!quiet) show(h('p', { class: 'muted' }, 'Loading…'));
  const content = h('div', { class: 'page', 'data-page': found.page.name });
  try {
    // The page is built off-screen: a quiet redraw keeps the old one (and its charts) until then.
    await found.page.draw(content, { params: found.params, query: new URLSearchParams(query) });
    if (mine !== generation) {
      destroyChartsIn(content);
      return;
    }
    show(content);
    content.setAttribute('data-ready', 'true');
  } catch (error) {
    destroyChartsIn(content);
    if (mine !== generation) return;
    if (error instanceof SignInRequired) {
      show(signInForm({ message: error.message, onSignedIn: () => void draw(false) }));
      return;
    }
    show(h('p', { class: 'error' }, `Could not load this page: ${String((error as Error).message)}`));
  }
  if (found.page.live) {
    refreshLabel.textContent = `refreshed ${new Date().toLocaleTimeString('en-GB')}, every ${REFRESH_MS / 1000} s`;
    timer = setTimeout(() => void draw(true), REFRESH_MS);
  } else {
    refreshLabel.textContent = '';
  }
}

window.addEventListener('hashchange', () => void draw(false));
void draw(false);
