// Tiny DOM helpers. Every piece of chain or worker data goes in as text
// (textContent, attribute values), never as HTML: all of it is hostile.

type Child = Node | string | number | bigint | null | undefined | false;
type Attrs = Record<string, string | boolean | ((e: Event) => void) | undefined>;

/** Creates an element with attributes (on* keys become listeners) and children. */
export function h(tag: string, attrs: Attrs = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) {
      continue;
    }
    if (typeof v === 'function') {
      el.addEventListener(k.slice(2).toLowerCase(), v);
    } else if (v === true) {
      el.setAttribute(k, '');
    } else {
      el.setAttribute(k, v);
    }
  }
  append(el, ...children);
  return el;
}

/** Appends children (text for anything that is not a Node). */
export function append(el: Element, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) {
      continue;
    }
    el.append(c instanceof Node ? c : String(c));
  }
}

/** A link to an explorer route. */
export function link(route: string, text: Child, cls = ''): HTMLElement {
  return h('a', { href: '#' + route, class: cls || undefined }, text);
}

/** A definition list of label → value rows. */
export function kv(rows: [string, Child][]): HTMLElement {
  const dl = h('dl', { class: 'kv' });
  for (const [k, v] of rows) {
    append(dl, h('dt', {}, k), h('dd', {}, v));
  }
  return dl;
}

/** A table with a header row and rows of cells. */
export function table(head: string[], rows: Child[][], id?: string): HTMLElement {
  return h('table', { id },
    h('thead', {}, h('tr', {}, ...head.map((c) => h('th', {}, c)))),
    h('tbody', {}, ...rows.map((r) => h('tr', {}, ...r.map((c) => h('td', {}, c))))));
}

/** Monospace text, shortened to its ends when long (the whole in the title). */
export function mono(s: string, keep = 0): HTMLElement {
  const short = keep > 0 && s.length > 2 * keep + 3 ? s.slice(0, keep + 2) + '…' + s.slice(-keep) : s;
  return h('span', { class: 'mono', title: s }, short);
}
