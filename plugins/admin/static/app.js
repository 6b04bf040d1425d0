// actionflow admin console: a small hand-written app on the public /api, no framework, no
// build step. Every call carries the signed-in user's token, so the server's permissions hold.
// Pages are hash routes: #/workflows, #/workflows/7, #/executions?workflowId=7, #/executions/12,
// #/collections, #/collections/posts.

const TOKEN = 'actionflow.token';
const USER = 'actionflow.user';

// Execution statuses (API.md §4); queued executions have status null.
const STATUS = new Map([[null, 'queued'], [0, 'started'], [1, 'resolved'], [-1, 'failed'],
  [-2, 'error'], [-3, 'aborted'], [-4, 'canceled']]);
const TYPES = ['action', 'request-interception', 'collection', 'custom-action', 'schedule', 'webhook'];

// ---- DOM helpers: elements are built with textContent, never from HTML strings.

function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'value') el.value = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const kid of kids.flat(Infinity)) {
    if (kid == null || kid === false) continue;
    el.append(kid instanceof Node ? kid : String(kid));
  }
  return el;
}

const $ = (sel, root = document) => root.querySelector(sel);
const pretty = (v) => JSON.stringify(v === undefined ? null : v, null, 2);
const statusName = (s) => STATUS.get(s ?? null) ?? String(s);
const isFinal = (s) => s != null && s !== 0;

function when(s) {
  if (!s) return '';
  const d = new Date(s);
  return isNaN(d) ? s : d.toLocaleString();
}

function badge(status) {
  const name = statusName(status);
  return h('span', { class: `badge s-${name}` }, name);
}

function field(label, control, hint) {
  const id = control.id || (control.id = 'f-' + label.toLowerCase().replace(/[^a-z0-9]+/g, '-'));
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hint ? h('small', {}, hint) : null);
}

function table(headers, rows, empty = 'Nothing here yet.') {
  if (!rows.length) return h('p', { class: 'empty' }, empty);
  return h('div', { class: 'scroll' }, h('table', {},
    h('thead', {}, h('tr', {}, headers.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, rows.map((cells) => h('tr', {}, cells.map((c) => h('td', {}, c)))))));
}

function pager(meta, go) {
  if (!meta || !meta.totalPage || meta.totalPage <= 1) {
    return h('p', { class: 'pager' }, meta ? `${meta.count} in all` : '');
  }
  return h('nav', { class: 'pager', 'aria-label': 'Pages' },
    h('button', { type: 'button', disabled: meta.page <= 1, onclick: () => go(meta.page - 1) }, '← Previous'),
    h('span', {}, `Page ${meta.page} of ${meta.totalPage} (${meta.count} in all)`),
    h('button', { type: 'button', disabled: meta.page >= meta.totalPage, onclick: () => go(meta.page + 1) }, 'Next →'));
}

function flash(message, kind = 'error') {
  const el = $('#flash');
  el.textContent = message || '';
  el.className = kind;
  el.hidden = !message;
}

// navigate goes to hash and shows a message on the page it lands on.
let pendingFlash = null;
function navigate(hash, message, kind = 'ok') {
  if (location.hash === hash) {
    flash(message, kind);
    route();
    return;
  }
  pendingFlash = [message, kind];
  location.hash = hash;
}

function parseJSON(text, what) {
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${what} is not valid JSON: ${e.message}`);
  }
}

// ---- the API

class APIError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function api(path, { method = 'GET', query, body } = {}) {
  const url = new URL('/api/' + path, location.origin);
  for (const [k, v] of Object.entries(query || {})) {
    if (v != null && v !== '') url.searchParams.set(k, typeof v === 'object' ? JSON.stringify(v) : v);
  }
  const headers = {};
  const token = sessionStorage.getItem(TOKEN);
  if (token) headers.Authorization = 'Bearer ' + token;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  let json = null;
  try {
    json = await res.json();
  } catch {
    // not JSON: the status says enough
  }
  if (!res.ok) {
    const msg = json?.errors?.map((e) => e.message).join('; ') || `HTTP ${res.status}`;
    if (res.status === 401 && path !== 'auth:signIn' && token) {
      forget();
      route();
      flash('Your session has ended: sign in again.');
    }
    throw new APIError(res.status, msg);
  }
  return json;
}

function forget() {
  sessionStorage.removeItem(TOKEN);
  sessionStorage.removeItem(USER);
}

// ---- routing: every navigation bumps gen; timers and late answers of older pages are dropped.

let gen = 0;
let timers = [];

function every(ms, fn) {
  const g = gen;
  const id = setInterval(() => { if (g === gen) fn(); }, ms);
  timers.push(id);
}

function mount(title, ...kids) {
  document.title = `${title} · actionflow admin`;
  const main = $('#main');
  main.replaceChildren(...kids);
  return main;
}

function focusHeading() {
  const h1 = $('#main h1');
  if (h1) {
    h1.tabIndex = -1;
    h1.focus({ preventScroll: true });
  }
}

async function route() {
  gen++;
  timers.forEach(clearInterval);
  timers = [];
  const [path, qs] = location.hash.replace(/^#/, '').split('?');
  const q = new URLSearchParams(qs || '');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const signedIn = !!sessionStorage.getItem(TOKEN);
  $('#top').hidden = !signedIn;
  if (!signedIn) return signInPage();
  $('#me').textContent = JSON.parse(sessionStorage.getItem(USER) || '{}').email || '';
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === (parts[0] || 'workflows')) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const g = gen;
  try {
    switch (parts[0] || 'workflows') {
      case 'workflows':
        await (parts[1] ? workflowPage(parts[1], q) : workflowsPage(q));
        break;
      case 'executions':
        await (parts[1] ? executionPage(parts[1]) : executionsPage(q));
        break;
      case 'collections':
        await (parts[1] ? recordsPage(parts[1], q) : collectionsPage());
        break;
      case 'signin':
        location.replace('#/workflows');
        break;
      default:
        mount('Not found', h('h1', {}, 'Not found'), h('p', {}, h('a', { href: '#/workflows' }, 'Go to the workflows')));
    }
    if (g === gen) focusHeading();
  } catch (e) {
    if (g === gen && !(e instanceof APIError && e.status === 401)) {
      mount('Error', h('h1', {}, 'Something went wrong'), h('p', { class: 'error' }, e.message));
    }
  }
}

function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function hashWith(base, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v != null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `${base}?${s}` : base;
}

// ---- sign in

function signInPage() {
  const email = h('input', { type: 'email', id: 'email', name: 'email', autocomplete: 'username', required: true });
  const password = h('input', { type: 'password', id: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const form = h('form', { class: 'card signin', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title' }, 'Sign in to actionflow'),
    field('Email', email), field('Password', password),
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const r = await api('auth:signIn', { method: 'POST', body: { email: email.value, password: password.value } });
      sessionStorage.setItem(TOKEN, r.data.token);
      sessionStorage.setItem(USER, JSON.stringify({ email: r.data.user?.email }));
      flash('');
      if (!location.hash || location.hash === '#/signin') location.hash = '#/workflows';
      else route();
    } catch (e) {
      flash(e.message);
      password.select();
    }
  });
  mount('Sign in', form);
  email.focus();
}

async function signOut() {
  try {
    await api('auth:signOut', { method: 'POST' });
  } catch {
    // the token is dropped either way
  }
  forget();
  navigate('#/signin', '');
}

// ---- queue depth: executions waiting to run (status null); there is no separate API for it.

async function queueDepth() {
  if (!sessionStorage.getItem(TOKEN)) return;
  const el = $('#queue');
  try {
    const r = await api('executions:list', { query: { filter: { status: null }, pageSize: 1, fields: 'id' } });
    el.textContent = `Queue: ${r.meta?.count ?? 0}`;
    el.hidden = false;
  } catch {
    el.hidden = true;
  }
}

// ---- workflows

async function workflowsPage(q) {
  const type = q.get('type') || '';
  const state = q.get('state') || '';
  const page = Number(q.get('page') || 1);
  const filter = {};
  if (type) filter.type = type;
  if (state) filter.enabled = state === 'enabled';
  const g = gen;
  const r = await api('workflows:list', { query: { filter, sort: '-id', page, pageSize: 50, fields: 'id,title,key,type,sync,enabled,current,executed' } });
  if (g !== gen) return;
  const typeSel = h('select', { id: 'filter-type' }, h('option', { value: '' }, 'Any type'),
    TYPES.map((t) => h('option', { value: t, selected: t === type }, t)));
  const stateSel = h('select', { id: 'filter-state' }, h('option', { value: '' }, 'Any state'),
    h('option', { value: 'enabled', selected: state === 'enabled' }, 'Enabled'),
    h('option', { value: 'disabled', selected: state === 'disabled' }, 'Disabled'));
  const apply = () => go(hashWith('#/workflows', { type: typeSel.value, state: stateSel.value }));
  typeSel.addEventListener('change', apply);
  stateSel.addEventListener('change', apply);
  mount('Workflows',
    h('div', { class: 'title' }, h('h1', {}, 'Workflows'), h('a', { class: 'button primary', href: '#/workflows/new' }, 'New workflow')),
    h('form', { class: 'filters', onsubmit: (e) => { e.preventDefault(); apply(); } }, field('Type', typeSel), field('State', stateSel)),
    table(['ID', 'Title', 'Key', 'Type', 'Mode', 'State', 'Runs'], r.data.map((w) => [
      String(w.id),
      h('a', { href: `#/workflows/${w.id}` }, w.title || '(untitled)'),
      h('code', {}, w.key),
      w.type,
      w.sync ? 'sync' : 'async',
      h('span', { class: `badge ${w.enabled ? 'on' : 'off'}` }, w.enabled ? 'enabled' : 'disabled', w.current ? ' · current' : ''),
      String(w.executed ?? 0),
    ]), 'No workflows match.'),
    pager(r.meta, (p) => go(hashWith('#/workflows', { type, state, page: p }))));
}

// scriptEditor is a textarea with a line-number gutter; mark(line, message) highlights a line
// and shows the message beside it.
function scriptEditor(value, readOnly) {
  const gutter = h('div', { class: 'gutter', 'aria-hidden': 'true' });
  const ta = h('textarea', {
    id: 'script', class: 'code', spellcheck: 'false', autocapitalize: 'off', autocomplete: 'off',
    wrap: 'off', rows: 16, readonly: readOnly, 'aria-describedby': 'script-error',
  });
  ta.value = value;
  const band = h('div', { class: 'errband', hidden: true });
  const msg = h('div', { id: 'script-error', class: 'script-error', role: 'alert', hidden: true });
  let errLine = 0;
  const lineHeight = () => parseFloat(getComputedStyle(ta).lineHeight) || 21;
  const padTop = () => parseFloat(getComputedStyle(ta).paddingTop) || 0;
  function place() {
    gutter.scrollTop = ta.scrollTop;
    if (errLine) band.style.top = `${padTop() + (errLine - 1) * lineHeight() - ta.scrollTop}px`;
  }
  function renumber() {
    const n = ta.value.split('\n').length;
    if (gutter.childElementCount !== n) {
      gutter.replaceChildren(...Array.from({ length: n }, (_, i) => h('span', { 'data-line': i + 1 }, String(i + 1))));
    }
    gutter.querySelectorAll('.err').forEach((s) => s.classList.remove('err'));
    gutter.querySelector(`[data-line="${errLine}"]`)?.classList.add('err');
    place();
  }
  function mark(line, message) {
    errLine = line || 0;
    band.hidden = !errLine;
    band.textContent = errLine ? message : '';
    msg.hidden = !message;
    msg.replaceChildren(...(message ? [h('strong', {}, errLine ? `Line ${errLine}: ` : ''), message] : []));
    if (errLine) {
      msg.append(' ', h('button', { type: 'button', class: 'link', onclick: () => goToLine(errLine) }, 'Go to line'));
    }
    renumber();
  }
  function goToLine(line) {
    const lines = ta.value.split('\n');
    const start = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
    ta.focus();
    ta.setSelectionRange(start, start + (lines[line - 1] || '').length);
    ta.scrollTop = Math.max(0, (line - 3) * lineHeight());
    place();
  }
  ta.addEventListener('input', () => { if (errLine) mark(0, ''); else renumber(); });
  ta.addEventListener('scroll', place);
  renumber();
  const el = h('div', { class: 'editor-wrap' },
    h('div', { class: 'editor' }, gutter, h('div', { class: 'code-wrap' }, band, ta)), msg);
  return { el, ta, mark };
}

// scriptListing shows a script read-only with line numbers and one line highlighted.
function scriptListing(script, line) {
  const lines = (script || '').split('\n');
  const pre = h('pre', { class: 'listing', tabindex: 0, 'aria-label': 'Workflow script' }, lines.map((text, i) =>
    h('span', { class: i + 1 === line ? 'ln err' : 'ln', 'data-line': i + 1 }, h('span', { class: 'no', 'aria-hidden': 'true' }, String(i + 1)), text + '\n')));
  return pre;
}

const lineOf = (message) => Number((/\bline (\d+)/.exec(message || '') || [])[1] || 0);

async function workflowPage(idText, q) {
  const isNew = idText === 'new';
  const g = gen;
  let w = { title: '', key: '', type: q.get('type') || 'collection', sync: false, enabled: false, config: {}, options: {}, script: 'return { ok = true }\n' };
  let versions = [];
  if (!isNew) {
    w = (await api('workflows:get', { query: { filterByTk: idText } })).data;
    versions = (await api('workflows:list', { query: { filter: { key: w.key }, sort: '-id', pageSize: 100, fields: 'id,title,enabled,current,executed' } })).data;
  }
  if (g !== gen) return;
  const frozen = !isNew && w.executed > 0;
  const title = h('input', { id: 'wf-title', value: w.title || '' });
  const key = h('input', { id: 'wf-key', value: w.key || '', readonly: !isNew, placeholder: isNew ? 'generated when empty' : null });
  const type = h('select', { id: 'wf-type', disabled: !isNew }, TYPES.map((t) => h('option', { value: t, selected: t === w.type }, t)));
  const sync = h('input', { type: 'checkbox', id: 'wf-sync', checked: !!w.sync, disabled: !isNew });
  const enabled = h('input', { type: 'checkbox', id: 'wf-enabled', checked: !!w.enabled });
  const config = h('textarea', { id: 'wf-config', class: 'json', rows: 4, spellcheck: 'false', readonly: frozen });
  config.value = pretty(w.config || {});
  const options = h('textarea', { id: 'wf-options', class: 'json', rows: 3, spellcheck: 'false' });
  options.value = pretty(w.options || {});
  const editor = scriptEditor(w.script || '', frozen);

  async function save() {
    flash('');
    editor.mark(0, '');
    let body;
    try {
      body = { title: title.value, config: parseJSON(config.value, 'Config') ?? {}, options: parseJSON(options.value, 'Options') ?? {}, script: editor.ta.value };
    } catch (e) {
      flash(e.message);
      return;
    }
    try {
      if (isNew) {
        Object.assign(body, { type: type.value, sync: sync.checked, enabled: enabled.checked });
        if (key.value.trim()) body.key = key.value.trim();
        const r = await api('workflows:create', { method: 'POST', body });
        navigate(`#/workflows/${r.data.id}`, `Workflow #${r.data.id} created.`);
        return;
      }
      // Send only what changed: a version that has run refuses a new config or script.
      const changes = {};
      if (body.title !== (w.title || '')) changes.title = body.title;
      if (JSON.stringify(body.config) !== JSON.stringify(w.config || {})) changes.config = body.config;
      if (JSON.stringify(body.options) !== JSON.stringify(w.options || {})) changes.options = body.options;
      if (body.script !== (w.script || '')) changes.script = body.script;
      if (enabled.checked !== !!w.enabled) changes.enabled = enabled.checked;
      await api('workflows:update', { method: 'POST', query: { filterByTk: w.id }, body: changes });
      flash('Saved.', 'ok');
      route();
    } catch (e) {
      const line = lineOf(e.message);
      if (/^script: /.test(e.message)) editor.mark(line, e.message.replace(/^script: (line \d+: )?/, ''));
      flash(e.message);
    }
  }

  async function setEnabled(on) {
    try {
      await api('workflows:update', { method: 'POST', query: { filterByTk: w.id }, body: { enabled: on } });
      flash(on ? 'Enabled.' : 'Disabled.', 'ok');
      route();
    } catch (e) {
      flash(e.message);
    }
  }

  async function revise() {
    try {
      const r = await api('workflows:revision', { method: 'POST', query: { filterByTk: w.id, 'filter[key]': w.key } });
      navigate(`#/workflows/${r.data.id}`, `Version #${r.data.id} made from #${w.id}: edit it, then enable it.`);
    } catch (e) {
      flash(e.message);
    }
  }

  async function destroy() {
    if (!confirm(`Delete version #${w.id} of ${w.key}?`)) return;
    try {
      await api('workflows:destroy', { method: 'POST', query: { filterByTk: w.id } });
      navigate('#/workflows', `Workflow #${w.id} deleted.`);
    } catch (e) {
      flash(e.message);
    }
  }

  const runCtx = h('textarea', { id: 'run-context', class: 'json', rows: 4, spellcheck: 'false' });
  runCtx.value = pretty(w.type === 'collection' || w.type === 'action' || w.type === 'custom-action' ? { data: {} } : {});
  const runOut = h('p', { id: 'run-result', role: 'status' });
  async function runNow() {
    runOut.textContent = '';
    try {
      const body = parseJSON(runCtx.value, 'Context') ?? {};
      const r = await api('workflows:execute', { method: 'POST', query: { filterByTk: w.id }, body });
      const x = r.data.execution;
      runOut.replaceChildren('Execution ', h('a', { href: `#/executions/${x.id}` }, `#${x.id}`), ' ', badge(x.status));
    } catch (e) {
      runOut.textContent = e.message;
    }
  }

  const form = h('form', { class: 'card', id: 'workflow-form' },
    h('div', { class: 'grid' },
      field('Title', title), field('Key', key), field('Type', type),
      h('div', { class: 'checks' },
        h('label', {}, sync, ' Synchronous'),
        h('label', {}, enabled, ' Enabled'))),
    field('Config (JSON)', config, frozen ? 'This version has run: its config and script are frozen. Make a new version to change them.' : null),
    field('Options (JSON)', options, 'timeout (ms), deleteExecutionOnStatus, stackLimit, …'),
    h('div', { class: 'field' }, h('label', { for: 'script' }, 'Script (Lua)'), editor.el),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'primary', id: 'save' }, isNew ? 'Create' : 'Save'),
      isNew ? null : [
        w.enabled
          ? h('button', { type: 'button', id: 'disable', onclick: () => setEnabled(false) }, 'Disable')
          : h('button', { type: 'button', id: 'enable', onclick: () => setEnabled(true) }, 'Enable'),
        h('button', { type: 'button', id: 'revise', onclick: revise }, 'New version'),
        h('a', { class: 'button', href: `#/executions?workflowId=${w.id}` }, 'Executions'),
        h('button', { type: 'button', class: 'danger', onclick: destroy }, 'Delete')]));
  form.addEventListener('submit', (e) => { e.preventDefault(); save(); });
  form.addEventListener('keydown', (e) => {
    if ((e.ctrlKey || e.metaKey) && e.key === 's') { e.preventDefault(); save(); }
  });

  const kids = [
    h('div', { class: 'title' },
      h('h1', {}, isNew ? 'New workflow' : `${w.title || '(untitled)'} `, isNew ? null : h('small', {}, `#${w.id} · ${w.enabled ? 'enabled' : 'disabled'}${w.current ? ' · current' : ''}`)),
      h('a', { href: '#/workflows' }, '← All workflows')),
    form];
  if (!isNew) {
    kids.push(
      h('section', { class: 'card', 'aria-labelledby': 'run-title' },
        h('h2', { id: 'run-title' }, 'Run now'),
        field('Context (JSON body of workflows:execute)', runCtx, 'e.g. {"data": 1} or {"data": {...}, "userId": 1}'),
        h('div', { class: 'actions' }, h('button', { type: 'button', id: 'run', onclick: runNow }, 'Run now')), runOut),
      h('section', { class: 'card', 'aria-labelledby': 'versions-title' },
        h('h2', { id: 'versions-title' }, `Versions of ${w.key}`),
        table(['ID', 'Title', 'State', 'Runs'], versions.map((v) => [
          v.id === w.id ? h('strong', {}, `#${v.id} (this one)`) : h('a', { href: `#/workflows/${v.id}` }, `#${v.id}`),
          v.title || '',
          h('span', { class: `badge ${v.enabled ? 'on' : 'off'}` }, v.enabled ? 'enabled' : 'disabled', v.current ? ' · current' : ''),
          String(v.executed ?? 0)]))));
  }
  mount(isNew ? 'New workflow' : `Workflow ${w.title || w.id}`, ...kids);
}

// ---- executions

const STATUS_FILTER = { queued: null, started: 0, resolved: 1, failed: -1, error: -2, aborted: -3, canceled: -4 };

function toISO(local) {
  if (!local) return undefined;
  const d = new Date(local);
  return isNaN(d) ? undefined : d.toISOString();
}

function toLocalInput(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (isNaN(d)) return '';
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

async function executionsPage(q) {
  const wf = q.get('workflowId') || '';
  const status = q.get('status') || '';
  const from = q.get('from') || '';
  const to = q.get('to') || '';
  const page = Number(q.get('page') || 1);
  const auto = q.get('auto') !== 'off';
  const filter = {};
  if (wf) filter.workflowId = Number(wf);
  if (status in STATUS_FILTER) filter.status = STATUS_FILTER[status];
  if (from || to) filter.createdAt = Object.fromEntries([['$gte', from], ['$lte', to]].filter(([, v]) => v));

  const wfIn = h('input', { id: 'filter-workflow', type: 'number', min: 1, inputmode: 'numeric', value: wf, placeholder: 'any' });
  const statusSel = h('select', { id: 'filter-status' }, h('option', { value: '' }, 'Any status'),
    Object.keys(STATUS_FILTER).map((s) => h('option', { value: s, selected: s === status }, s)));
  const fromIn = h('input', { id: 'filter-from', type: 'datetime-local', value: toLocalInput(from) });
  const toIn = h('input', { id: 'filter-to', type: 'datetime-local', value: toLocalInput(to) });
  const autoIn = h('input', { id: 'auto-refresh', type: 'checkbox', checked: auto });
  const params = () => ({ workflowId: wfIn.value, status: statusSel.value, from: toISO(fromIn.value), to: toISO(toIn.value), auto: autoIn.checked ? '' : 'off' });
  const form = h('form', { class: 'filters' },
    field('Workflow ID', wfIn), field('Status', statusSel), field('Created from', fromIn), field('Created until', toIn),
    h('div', { class: 'checks' }, h('label', {}, autoIn, ' Auto-refresh')),
    h('button', { type: 'submit' }, 'Apply'));
  form.addEventListener('submit', (e) => { e.preventDefault(); go(hashWith('#/executions', params())); });
  statusSel.addEventListener('change', () => go(hashWith('#/executions', params())));
  autoIn.addEventListener('change', () => go(hashWith('#/executions', params())));
  const results = h('div', { id: 'executions', 'aria-live': 'polite' });

  const g = gen;
  async function load() {
    const r = await api('executions:list', {
      // no `fields`: executions gain fields (attempt, waiting) as the engine grows
      query: { filter, sort: '-id', page, pageSize: 50 },
    });
    if (g !== gen) return;
    results.replaceChildren(
      table(['ID', 'Workflow', 'Status', 'Created', 'Finished', 'By'], r.data.map((x) => [
        h('a', { href: `#/executions/${x.id}` }, `#${x.id}`),
        h('span', {}, h('a', { href: `#/workflows/${x.workflowId}` }, `#${x.workflowId}`), ' ', h('code', {}, x.key || '')),
        h('span', {}, badge(x.status), x.attempt > 1 ? ` attempt ${x.attempt}` : ''),
        when(x.createdAt), when(x.finishedAt), x.manually ? 'manual' : 'trigger',
      ]), 'No executions match.'),
      pager(r.meta, (p) => go(hashWith('#/executions', { ...params(), page: p }))));
  }
  await load();
  if (g !== gen) return;
  mount('Executions', h('div', { class: 'title' }, h('h1', {}, 'Executions')), form, results);
  if (auto) every(3000, () => load().catch(() => {}));
}

async function executionPage(id) {
  const g = gen;
  let x = (await api('executions:get', { query: { filterByTk: id } })).data;
  let w = null;
  try {
    w = (await api('workflows:get', { query: { filterByTk: x.workflowId } })).data;
  } catch {
    // the workflow may be gone; the execution still shows
  }
  if (g !== gen) return;

  async function act(action, body) {
    try {
      const r = await api(`executions:${action}`, { method: 'POST', query: { filterByTk: x.id }, body });
      if (action === 'retry' && r.data.id !== x.id) {
        navigate(`#/executions/${r.data.id}`, `Retry queued as execution #${r.data.id}.`);
        return;
      }
      flash(action === 'cancel' ? 'Cancel requested.' : 'Done.', 'ok');
      refresh();
    } catch (e) {
      flash(e.message);
    }
  }

  function render() {
    const err = x.error;
    const info = [
      ['Workflow', h('span', {}, h('a', { href: `#/workflows/${x.workflowId}` }, w ? `${w.title || w.key} (#${x.workflowId})` : `#${x.workflowId}`), ' ', h('code', {}, x.key || ''))],
      ['Status', h('span', { id: 'status' }, badge(x.status), x.reason ? ` — ${x.reason}` : '')],
      ['Created', when(x.createdAt)], ['Started', when(x.startedAt)], ['Finished', when(x.finishedAt)],
      ['Started by', x.manually ? 'run manually' : 'a trigger'],
    ];
    if (x.attempt != null) info.push(['Attempt', String(x.attempt)]);
    if (x.nextRunAt) info.push(['Next run', when(x.nextRunAt)]);
    if (x.waiting) info.push(['Waiting', `${x.waiting.kind}${x.waiting.name ? ` "${x.waiting.name}"` : ''}${x.waiting.until ? ` until ${when(x.waiting.until)}` : ''}`]);
    const sections = [
      h('div', { class: 'title' }, h('h1', {}, `Execution #${x.id} `, badge(x.status)), h('a', { href: `#/executions?workflowId=${x.workflowId}` }, '← Executions of this workflow')),
      h('section', { class: 'card' },
        h('dl', { class: 'info' }, info.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
        h('div', { class: 'actions' },
          isFinal(x.status) ? h('button', { type: 'button', id: 'retry', onclick: () => act('retry') }, 'Retry')
            : h('button', { type: 'button', id: 'cancel', class: 'danger', onclick: () => act('cancel') }, 'Cancel'))),
    ];
    if (x.waiting?.kind === 'signal') {
      const data = h('textarea', { id: 'signal-data', class: 'json', rows: 3, spellcheck: 'false' });
      data.value = '{}';
      sections.push(h('section', { class: 'card', 'aria-labelledby': 'signal-title' }, h('h2', { id: 'signal-title' }, `Signal "${x.waiting.name}"`),
        field('Data (JSON)', data),
        h('button', { type: 'button', onclick: () => { try { act('signal', { name: x.waiting.name, data: parseJSON(data.value, 'Data') ?? null }); } catch (e) { flash(e.message); } } }, 'Send signal')));
    }
    if (err) {
      sections.push(h('section', { class: 'card error-card', 'aria-labelledby': 'error-title' },
        h('h2', { id: 'error-title' }, 'Error'),
        h('p', { id: 'error-message' }, err.line ? h('strong', {}, `Line ${err.line}: `) : null, err.message),
        err.writes?.length ? h('p', {}, 'Writes that committed before it ended: ', err.writes.join(', ')) : null,
        w ? scriptListing(w.script, err.line) : null));
    }
    sections.push(
      h('section', { class: 'card', 'aria-labelledby': 'output-title' }, h('h2', { id: 'output-title' }, 'Output'), h('pre', { id: 'output', class: 'json', tabindex: 0 }, pretty(x.output))),
      h('section', { class: 'card', 'aria-labelledby': 'context-title' }, h('h2', { id: 'context-title' }, 'Context'), h('pre', { id: 'context', class: 'json', tabindex: 0 }, pretty(x.context))));
    if (x.steps && Object.keys(x.steps).length) {
      sections.push(h('section', { class: 'card', 'aria-labelledby': 'steps-title' }, h('h2', { id: 'steps-title' }, 'Steps'),
        table(['Step', 'Result'], Object.entries(x.steps).map(([k, v]) => [h('code', {}, k), h('pre', { class: 'json' }, pretty(v))]))));
    }
    if (x.messages?.length) {
      sections.push(h('section', { class: 'card', 'aria-labelledby': 'messages-title' }, h('h2', { id: 'messages-title' }, 'Messages'),
        h('ul', {}, x.messages.map((m) => h('li', {}, m.message)))));
    }
    sections.push(h('section', { class: 'card', 'aria-labelledby': 'logs-title' }, h('h2', { id: 'logs-title' }, 'Logs'),
      table(['Time', 'Level', 'Message'], (x.logs || []).map((l) => [when(l.time), h('span', { class: `lvl ${l.level}` }, l.level), h('span', { class: 'msg' }, l.message)]), 'No log lines.')));
    const focused = document.activeElement?.id;
    mount(`Execution #${x.id}`, ...sections);
    if (focused) document.getElementById(focused)?.focus({ preventScroll: true });
    const line = $('.listing .err');
    if (line) line.scrollIntoView({ block: 'nearest' });
  }

  async function refresh() {
    const fresh = (await api('executions:get', { query: { filterByTk: id } })).data;
    if (g !== gen) return;
    if (JSON.stringify(fresh) !== JSON.stringify(x)) {
      x = fresh;
      render();
    }
  }

  render();
  every(2000, () => { if (!isFinal(x.status) || x.nextRunAt) refresh().catch(() => {}); });
}

// ---- collections and records

async function collectionsPage() {
  const g = gen;
  const r = await api('collections:list');
  if (g !== gen) return;
  const list = [...r.data].sort((a, b) => (a.system === b.system ? a.name.localeCompare(b.name) : a.system ? 1 : -1));
  mount('Collections', h('div', { class: 'title' }, h('h1', {}, 'Collections')),
    table(['Name', 'Title', 'Fields', 'Kind'], list.map((c) => [
      h('a', { href: `#/collections/${encodeURIComponent(c.name)}` }, c.name), c.title || '',
      String((c.fields || []).filter((f) => !f.system).length), c.system ? 'system' : 'data'])));
}

function cell(v) {
  if (v == null) return '';
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return s.length > 80 ? s.slice(0, 79) + '…' : s;
}

async function recordsPage(name, q) {
  const filterText = q.get('filter') || '';
  const page = Number(q.get('page') || 1);
  const g = gen;
  const coll = (await api('collections:get', { query: { filterByTk: name } })).data;
  let filter;
  try {
    filter = parseJSON(filterText, 'Filter');
  } catch (e) {
    flash(e.message);
  }
  const r = await api(`${name}:list`, { query: { filter, sort: '-id', page, pageSize: 20 } });
  if (g !== gen) return;
  const cols = (coll.fields || []).filter((f) => !f.hidden && f.type !== 'password' && f.type !== 'hasMany' && f.type !== 'hasOne' && f.type !== 'belongsTo');
  const order = ['id', ...cols.filter((f) => !f.system).map((f) => f.name), 'createdAt', 'updatedAt'];
  const shown = order.filter((n, i) => order.indexOf(n) === i && cols.some((f) => f.name === n));

  const filterIn = h('input', { id: 'filter-records', value: filterText, placeholder: '{"status": "published"}', spellcheck: 'false' });
  const form = h('form', { class: 'filters' }, field('Filter (JSON)', filterIn), h('button', { type: 'submit' }, 'Apply'));
  form.addEventListener('submit', (e) => { e.preventDefault(); go(hashWith(`#/collections/${encodeURIComponent(name)}`, { filter: filterIn.value.trim() })); });

  const values = h('textarea', { id: 'record-values', class: 'json', rows: 4, spellcheck: 'false' });
  values.value = pretty(Object.fromEntries(cols.filter((f) => !f.system && !f.implicit).map((f) => [f.name, f.defaultValue ?? null])));
  const triggers = h('input', { id: 'record-trigger', placeholder: 'key1,key2', spellcheck: 'false' });
  const created = h('p', { id: 'record-result', role: 'status' });
  const createForm = h('form', { class: 'card', 'aria-labelledby': 'create-title' },
    h('h2', { id: 'create-title' }, 'New record'),
    field('Values (JSON)', values), field('triggerWorkflows', triggers, 'keys of action workflows to fire, comma separated'),
    h('button', { type: 'submit', id: 'create-record' }, 'Create'), created);
  createForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    created.textContent = '';
    try {
      const body = parseJSON(values.value, 'Values') ?? {};
      const res = await api(`${name}:create`, { method: 'POST', query: { triggerWorkflows: triggers.value.trim() }, body });
      const msgs = (res.messages || []).map((m) => m.message).join('; ');
      flash(`Record #${res.data.id} created.${msgs ? ' ' + msgs : ''}`, 'ok');
      route();
    } catch (err) {
      created.textContent = err.message;
    }
  });

  mount(`Collection ${name}`,
    h('div', { class: 'title' }, h('h1', {}, coll.title && coll.title !== name ? `${coll.title} ` : `${name} `, h('small', {}, name)), h('a', { href: '#/collections' }, '← All collections')),
    form,
    table(shown, r.data.map((rec) => shown.map((n) => cell(rec[n]))), 'No records match.'),
    pager(r.meta, (p) => go(hashWith(`#/collections/${encodeURIComponent(name)}`, { filter: filterText, page: p }))),
    coll.system ? null : createForm);
}

// ---- start

$('#signout').addEventListener('click', signOut);
window.addEventListener('hashchange', () => {
  flash(...(pendingFlash || ['']));
  pendingFlash = null;
  route();
});
setInterval(queueDepth, 5000);
window.addEventListener('hashchange', queueDepth);
route().then(queueDepth);
