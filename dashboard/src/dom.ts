/** A tiny element builder: enough DOM for tables, cards and links without a framework. */

type Child = Node | string | number | null | undefined | false;
type Attributes = Record<string, string | number | boolean | undefined | ((event: Event) => void)>;

/** Creates an element with attributes (`on…` functions become listeners) and children. */
export function h(tag: string, attributes: Attributes = {}, ...children: (Child | Child[])[]): HTMLElement {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

/** A table from a header row and body rows. */
export function table(header: readonly string[], rows: readonly Child[][], attributes: Attributes = {}): HTMLElement {
  return h(
    'table',
    attributes,
    h('thead', {}, h('tr', {}, ...header.map((title) => h('th', {}, title)))),
    h('tbody', {}, ...rows.map((row) => h('tr', {}, ...row.map((cell) => h('td', {}, cell))))),
  );
}

/** A link inside the page. */
export function link(hash: string, text: string): HTMLElement {
  return h('a', { href: `#${hash}` }, text);
}

/** A titled section. */
export function section(title: string, ...children: (Child | Child[])[]): HTMLElement {
  return h('section', { class: 'card' }, h('h2', {}, title), ...children);
}

/** "not available" with why. */
export function unavailable(what: string): HTMLElement {
  return h('p', { class: 'unavailable' }, `${what}: not available on this server.`);
}

/** A number for people: at most 4 significant digits. */
export function num(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  if (Number.isInteger(value)) return value.toLocaleString('en');
  return Number(value.toPrecision(4)).toString();
}

/** A date and time for people. */
export function when(epochMs: number | undefined): string {
  return epochMs === undefined ? '–' : new Date(epochMs).toISOString().replace('T', ' ').slice(0, 19);
}

/** A dataset content hash, shortened. */
export function shortHash(hash: string): string {
  return hash.replace(/^sha256:/, '').slice(0, 12);
}

/** Appends children, skipping empty ones (null, undefined, false). */
export function append(parent: HTMLElement, ...children: (Child | Child[])[]): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : String(child));
  }
}
