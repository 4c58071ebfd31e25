// Haechi console: a single-page application over the authenticated JSON API.
// Pages (by URL hash): #/queue (live alert queue), #/incidents, #/incidents/ID,
// #/board (situation board), #/search (event search), #/response (playbook runs
// awaiting approval, block lists), #/vulns (inventories, their findings, inspected web sites), #/domains (protected names and their look-alikes). Data is put in the page with textContent only
// (never innerHTML), so an attacker-controlled field cannot inject markup.
'use strict';

const LEVELS = ['informational', 'low', 'medium', 'high', 'critical'];
const TACTICS = ['reconnaissance', 'resource_development', 'initial_access', 'execution',
  'persistence', 'privilege_escalation', 'defense_evasion', 'credential_access', 'discovery',
  'lateral_movement', 'collection', 'command_and_control', 'exfiltration', 'impact'];
const INCIDENT_STATUSES = ['new', 'triage', 'containment', 'eradication', 'recovery', 'closed'];
const DISPOSITIONS = [['true_positive', 'true positive'], ['false_positive', 'false positive'], ['benign', 'benign']];

const session = { me: null, live: null, refresh: null };

// ---- small DOM helpers -------------------------------------------------------------

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const $ = sel => document.querySelector(sel);

function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

function fmtTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  const pad = n => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function ago(iso) {
  if (!iso) return 'never';
  const s = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
  if (s < 60) return `${Math.round(s)} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

function levelBadge(level) {
  return h('span', { class: `level ${level}` }, level);
}

function toast(message, kind) {
  const t = h('div', { class: `toast ${kind || 'info'}`, role: 'status' }, message);
  $('#toasts').appendChild(t);
  setTimeout(() => t.remove(), kind === 'error' ? 8000 : 4000);
}

// ---- the API -----------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(path, options) {
  const opts = Object.assign({ method: 'GET', credentials: 'same-origin', headers: {} }, options || {});
  if (opts.body !== undefined && typeof opts.body !== 'string') {
    opts.body = JSON.stringify(opts.body);
    opts.headers['Content-Type'] = 'application/json';
  }
  if (opts.method !== 'GET' && session.me && session.me.csrf) opts.headers['X-CSRF-Token'] = session.me.csrf;
  const r = await fetch(path, opts);
  const isJson = (r.headers.get('Content-Type') || '').includes('json');
  const body = isJson ? await r.json() : await r.text();
  if (r.status === 401 && !path.startsWith('/api/auth/')) {
    session.me = null;
    showLogin('Your session has ended; log in again.');
  }
  if (!r.ok) throw new ApiError(r.status, (body && body.error) || `${r.status} ${r.statusText}`);
  return body;
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== '' && v !== null && v !== undefined) q.set(k, v);
  const s = q.toString();
  return s ? '?' + s : '';
}

// ---- login and frame ---------------------------------------------------------------

function showLogin(message) {
  stopPage();
  $('#app').hidden = true;
  $('#login').hidden = false;
  $('#login-error').textContent = message || '';
  $('#login-user').focus();
}

async function login(ev) {
  ev.preventDefault();
  const username = $('#login-user').value.trim();
  const password = $('#login-password').value;
  try {
    session.me = await api('/api/auth/login', { method: 'POST', body: { username, password } });
    $('#login-password').value = '';
    enterApp();
  } catch (e) {
    $('#login-error').textContent = e.message;
  }
}

async function logout() {
  try { await api('/api/auth/logout', { method: 'POST' }); } catch (_) { /* the session is gone either way */ }
  session.me = null;
  queue.filters = {};
  clear($('#toasts'));
  showLogin('Logged out.');
}

function enterApp() {
  $('#login').hidden = true;
  $('#app').hidden = false;
  const me = session.me;
  $('#whoami').textContent = `${me.user} · ${me.role}${me.tenant ? ' · ' + me.tenant : ' · all institutions'}`;
  if (!location.hash || location.hash === '#/' || location.hash === '#') location.hash = '#/queue';
  else route();
}

function stopPage() {
  if (session.live) { session.live.close(); session.live = null; }
  if (session.refresh) { clearInterval(session.refresh); session.refresh = null; }
}

function route() {
  if (!session.me) return;
  stopPage();
  const parts = location.hash.replace(/^#\/?/, '').split('/');
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('active', a.dataset.page === parts[0]);
  const main = clear($('#main'));
  const pages = { queue: queuePage, incidents: incidentsPage, board: boardPage, search: searchPage, response: responsePage, vulns: vulnsPage, domains: domainsPage, drills: drillsPage };
  const page = pages[parts[0]] || queuePage;
  page(main, parts.slice(1)).catch(e => {
    main.appendChild(h('p', { class: 'error' }, e.message));
  });
}

async function tenants() {
  try { return (await api('/api/tenants')).tenants.map(t => t.id); } catch (_) { return []; }
}

// The institution choices of a filter: "all" and each one, or only their own for an
// institution's analyst.
function tenantChoices(ts) {
  if (session.me.tenant) return [[session.me.tenant, session.me.tenant]];
  return [['', 'all']].concat(ts.map(t => [t, t]));
}

function select(id, options, value) {
  return h('select', { id },
    options.map(([v, label]) => h('option', { value: v, selected: v === value }, label)));
}

// ---- the alert queue ---------------------------------------------------------------

const queue = { alerts: new Map(), last: null, filters: {} };

async function queuePage(main) {
  const ts = await tenants();
  const canWrite = session.me.role !== 'viewer';
  const f = queue.filters;
  main.appendChild(h('div', { class: 'page-head' },
    h('h1', {}, 'Alert queue'),
    h('span', { id: 'live', class: 'live off', title: 'new alerts appear here as they are stored' }, 'connecting…')));
  const filters = h('form', { id: 'queue-filters', class: 'filters', onsubmit: ev => { ev.preventDefault(); readFilters(); loadQueue(); } },
    label('Institution', select('f-tenant', tenantChoices(ts), f.tenant || session.me.tenant || '')),
    label('Severity ≥', select('f-level', LEVELS.map(l => [l, l]), f.min_level || 'low')),
    label('State', select('f-state', [['', 'any'], ['new', 'new'], ['acknowledged', 'acknowledged'], ['closed', 'closed']], f.state || '')),
    label('Origin', select('f-source', [['', 'any'], ['sigma', 'Sigma rule'], ['correlation', 'correlation'], ['indicator', 'threat intel'], ['model', 'model'], ['device', 'equipment']], f.source || '')),
    label('Rule id', h('input', { id: 'f-rule', value: f.rule_id || '', placeholder: 'rule id' })),
    label('ATT&CK tactic', select('f-tactic', [['', 'any']].concat(TACTICS.map(t => [t, t.replace(/_/g, ' ')])), f.tactic || '')),
    label('Entity', h('input', { id: 'f-entity', value: f.entity || '', placeholder: 'source.ip=203.0.113.7' })),
    label('Since', h('input', { id: 'f-since', type: 'datetime-local', value: f.since || '' })),
    label('Until', h('input', { id: 'f-until', type: 'datetime-local', value: f.until || '' })),
    h('button', { type: 'submit' }, 'Apply'));
  main.appendChild(filters);
  if (canWrite) {
    main.appendChild(h('div', { class: 'bulk', id: 'bulk' },
      h('span', { id: 'selected-count' }, '0 selected'),
      h('button', { id: 'ack', onclick: () => triage('acknowledge') }, 'Acknowledge'),
      h('input', { id: 'assignee', placeholder: 'user name', size: 12 }),
      h('button', { id: 'assign', onclick: () => triage('assign') }, 'Assign'),
      select('disposition', DISPOSITIONS, 'true_positive'),
      h('button', { id: 'close', onclick: () => triage('close') }, 'Close')));
  }
  main.appendChild(h('table', { id: 'alerts', class: 'grid' },
    h('thead', {}, h('tr', {},
      h('th', {}, h('input', { type: 'checkbox', id: 'select-all', title: 'select all', onchange: ev => selectAll(ev.target.checked) })),
      ['Last seen', 'Severity', 'Institution', 'Rule', 'Entity', 'Count', 'State', 'Assignee'].map(t => h('th', {}, t)))),
    h('tbody', {})));
  main.appendChild(h('button', { id: 'more', class: 'more', onclick: () => loadQueue(true) }, 'Older alerts'));
  main.appendChild(h('aside', { id: 'alert-detail', class: 'drawer', hidden: true }));
  await loadQueue();
  startLive();
}

function label(text, control) {
  return h('label', {}, h('span', {}, text), control);
}

function readFilters() {
  const v = id => $('#' + id).value.trim();
  queue.filters = {
    tenant: v('f-tenant'), min_level: v('f-level'), state: v('f-state'), source: v('f-source'), rule_id: v('f-rule'),
    tactic: v('f-tactic'), entity: v('f-entity'), since: v('f-since'), until: v('f-until'),
  };
}

function filterParams() {
  const f = queue.filters;
  const iso = s => (s ? new Date(s).toISOString() : '');
  return {
    tenant: f.tenant, min_level: f.min_level || 'low', state: f.state, source: f.source, rule_id: f.rule_id,
    tag: f.tactic ? 'attack.' + f.tactic : '', entity: f.entity, since: iso(f.since), until: iso(f.until),
  };
}

// Whether a live alert belongs in the list as filtered (the server already scoped it).
function matchesFilters(a) {
  const p = filterParams();
  if (p.tenant && a.tenant !== p.tenant) return false;
  if (LEVELS.indexOf(a.level) < LEVELS.indexOf(p.min_level)) return false;
  if (p.state && a.triage.state !== p.state) return false;
  if (p.source && a.source !== p.source) return false;
  if (p.rule_id && a.rule_id !== p.rule_id) return false;
  if (p.tag && !a.tags.includes(p.tag)) return false;
  if (p.entity && !a.entity.includes(p.entity)) return false;
  if (p.until) return false; // a window that has ended gets no new alerts
  return true;
}

async function loadQueue(older) {
  const params = Object.assign(filterParams(), { limit: 100 });
  if (older && queue.last !== null) params.after = queue.last;
  const body = $('#alerts tbody');
  if (!older) { clear(body); queue.alerts.clear(); }
  try {
    const { alerts } = await api('/api/alerts' + query(params));
    for (const a of alerts) body.appendChild(alertRow(a));
    if (alerts.length) queue.last = alerts[alerts.length - 1].id;
    $('#more').hidden = alerts.length < 100;
    if (!body.children.length) body.appendChild(h('tr', { class: 'empty' }, h('td', { colspan: 9 }, 'No alerts match these filters.')));
  } catch (e) {
    toast(e.message, 'error');
  }
  updateSelection();
}

function alertRow(a, fresh) {
  queue.alerts.set(a.id, a);
  const tr = h('tr', { 'data-id': a.id, class: `alert-row ${fresh ? 'fresh' : ''} ${a.triage.state}` },
    h('td', {}, h('input', { type: 'checkbox', class: 'pick', value: a.id, onchange: updateSelection, onclick: ev => ev.stopPropagation() })),
    h('td', { class: 'time' }, fmtTime(a.last_seen)),
    h('td', {}, levelBadge(a.level)),
    h('td', {}, a.tenant),
    h('td', { class: 'rule' }, a.rule_title),
    h('td', { class: 'entity' }, a.entity),
    h('td', { class: 'num' }, a.count),
    h('td', {}, h('span', { class: `state ${a.triage.state}` }, a.triage.state + (a.triage.disposition ? ` (${a.triage.disposition.replace('_', ' ')})` : ''))),
    h('td', {}, a.triage.assignee || ''));
  tr.addEventListener('click', () => showAlert(a.id));
  return tr;
}

function startLive() {
  const src = new EventSource('/api/alerts/stream');
  session.live = src;
  const badge = $('#live');
  src.onopen = () => { badge.textContent = 'live'; badge.className = 'live on'; };
  src.onerror = () => { badge.textContent = 'reconnecting…'; badge.className = 'live off'; };
  src.addEventListener('alert', ev => {
    const a = JSON.parse(ev.data);
    if (!matchesFilters(a)) return;
    const body = $('#alerts tbody');
    const empty = body.querySelector('tr.empty');
    if (empty) empty.remove();
    const old = body.querySelector(`tr[data-id="${a.id}"]`);
    if (old) {
      // A merge: fetch the alert as stored (count and last seen have grown).
      api('/api/alerts/' + a.id).then(full => { old.replaceWith(alertRow(full.alert || full, true)); }).catch(() => {});
      return;
    }
    body.insertBefore(alertRow(a, true), body.firstChild);
  });
  src.addEventListener('resync', () => loadQueue());
}

function selectedIds() {
  return [...document.querySelectorAll('#alerts .pick:checked')].map(c => Number(c.value));
}

function selectAll(on) {
  for (const c of document.querySelectorAll('#alerts .pick')) c.checked = on;
  updateSelection();
}

function updateSelection() {
  const n = selectedIds().length;
  const counter = $('#selected-count');
  if (counter) counter.textContent = `${n} selected`;
  for (const id of ['ack', 'assign', 'close']) { const b = $('#' + id); if (b) b.disabled = n === 0; }
}

async function triage(action) {
  const ids = selectedIds();
  if (!ids.length) return;
  const body = { ids, action };
  if (action === 'assign') body.assignee = $('#assignee').value.trim() || session.me.user;
  if (action === 'close') body.disposition = $('#disposition').value;
  try {
    const r = await api('/api/alerts/triage', { method: 'POST', body });
    toast(`${r.changed.length} alert${r.changed.length === 1 ? '' : 's'} ${action === 'close' ? 'closed' : action + 'd'}`);
    for (const id of r.changed) {
      const full = await api('/api/alerts/' + id);
      const row = $(`#alerts tr[data-id="${id}"]`);
      if (row) row.replaceWith(alertRow(full.alert || full));
    }
    $('#select-all').checked = false;
    updateSelection();
  } catch (e) {
    toast(e.message, 'error');
  }
}

async function showAlert(id) {
  const drawer = clear($('#alert-detail'));
  drawer.hidden = false;
  let r;
  try { r = await api('/api/alerts/' + id); } catch (e) { drawer.appendChild(h('p', { class: 'error' }, e.message)); return; }
  const a = r.alert || r;
  drawer.appendChild(h('button', { class: 'close-drawer', onclick: () => { drawer.hidden = true; }, title: 'close' }, '×'));
  drawer.appendChild(h('h2', {}, levelBadge(a.level), ' ', a.rule_title));
  drawer.appendChild(h('dl', {},
    h('dt', {}, 'Institution'), h('dd', {}, a.tenant),
    h('dt', {}, 'Entity'), h('dd', {}, a.entity),
    h('dt', {}, 'Seen'), h('dd', {}, `${fmtTime(a.first_seen)} → ${fmtTime(a.last_seen)} (${a.count}×)`),
    h('dt', {}, 'Source'), h('dd', {}, `${a.source} · ${a.rule_id}`),
    h('dt', {}, 'Tags'), h('dd', {}, a.tags.join(', ') || '—'),
    a.source === 'device' && a.details.observer ? [h('dt', {}, 'Observer'), h('dd', { id: 'alert-observer' }, [a.details.observer.vendor, a.details.observer.product, a.details.observer.hostname || a.details.observer.name].filter(Boolean).join(' · '))] : null,
    a.source === 'device' && (a.details.attacker || a.details.victim) ? [h('dt', {}, 'Attacker → victim'), h('dd', {}, `${a.details.attacker || '?'} → ${a.details.victim || '?'}`)] : null,
    a.author ? [h('dt', {}, 'Author'), h('dd', {}, a.author)] : null,
    h('dt', {}, 'Incident'), h('dd', {}, r.incident ? h('a', { href: `#/incidents/${r.incident}`, id: 'alert-incident' }, `incident #${r.incident}`) : 'none (below the grouping level)')));
  if (a.references.length) drawer.appendChild(h('p', { class: 'refs' }, 'References: ', a.references.join(' ')));
  drawer.appendChild(h('h3', {}, 'Details'));
  drawer.appendChild(h('pre', {}, JSON.stringify(a.details, null, 2)));
  drawer.appendChild(h('h3', {}, 'Evidence events'));
  drawer.appendChild(h('ul', {}, a.events.map(e => h('li', {}, `${fmtTime(e.timestamp)} · ${e.id}`))));
}

// ---- incidents ---------------------------------------------------------------------

async function incidentsPage(main, rest) {
  if (rest[0]) return incidentPage(main, Number(rest[0]));
  main.appendChild(h('div', { class: 'page-head' }, h('h1', {}, 'Incidents')));
  if (!session.me.tenant) {
    try {
      const { campaigns } = await api('/api/campaigns');
      if (campaigns.length) {
        main.appendChild(h('section', { class: 'campaigns', id: 'campaigns' },
          h('h2', {}, 'Cross-institution campaigns'),
          campaigns.map(c => h('div', { class: 'campaign' },
            h('strong', {}, c.key.replace(/^attacker:/, '')),
            ` at ${c.tenants.length} institutions: ${c.tenants.join(', ')} — `,
            c.incidents.map(id => h('a', { href: `#/incidents/${id}` }, `#${id} `)),
            h('span', { class: 'muted' }, ` last seen ${ago(c.last_seen)}`)))));
      }
    } catch (e) { toast(e.message, 'error'); }
  }
  const status = h('select', { id: 'i-status' }, h('option', { value: '' }, 'open'), h('option', { value: 'all' }, 'all'),
    INCIDENT_STATUSES.map(s => h('option', { value: s }, s)));
  const table = h('table', { id: 'incidents', class: 'grid' },
    h('thead', {}, h('tr', {}, ['#', 'Severity', 'Title', 'Institution', 'Status', 'Owner', 'Alerts', 'Campaign', 'Last activity'].map(t => h('th', {}, t)))),
    h('tbody', {}));
  const load = async () => {
    const s = status.value;
    const params = { limit: 200, open: s === '' ? 'true' : '', status: s && s !== 'all' ? s : '' };
    const { incidents } = await api('/api/incidents' + query(params));
    const body = clear(table.tBodies[0]);
    for (const i of incidents) {
      body.appendChild(h('tr', { class: 'link', onclick: () => { location.hash = `#/incidents/${i.id}`; } },
        h('td', {}, h('a', { href: `#/incidents/${i.id}` }, i.id)), h('td', {}, levelBadge(i.level)), h('td', {}, i.title), h('td', {}, i.tenant),
        h('td', {}, h('span', { class: 'status ' + i.status }, i.status)), h('td', {}, i.owner || ''), h('td', { class: 'num' }, i.alerts),
        h('td', {}, i.campaign ? h('span', { class: 'campaign-badge' }, `campaign ${i.campaign}`) : ''), h('td', {}, ago(i.last_seen))));
    }
    if (!incidents.length) body.appendChild(h('tr', { class: 'empty' }, h('td', { colspan: 9 }, 'No incidents.')));
  };
  status.addEventListener('change', () => load().catch(e => toast(e.message, 'error')));
  main.appendChild(h('div', { class: 'filters' }, label('Status', status)));
  main.appendChild(table);
  await load();
  session.refresh = setInterval(() => load().catch(() => {}), 15000);
}

async function incidentPage(main, id) {
  const d = await api('/api/incidents/' + id);
  const i = d;
  const canWrite = session.me.role !== 'viewer';
  main.appendChild(h('div', { class: 'page-head' },
    h('a', { href: '#/incidents', class: 'back' }, '← Incidents'),
    h('h1', { id: 'incident-title' }, `#${i.id} `, i.title),
    levelBadge(i.level), h('span', { class: 'status ' + i.status, id: 'incident-status' }, i.status)));
  main.appendChild(h('dl', { class: 'facts' },
    h('dt', {}, 'Institution'), h('dd', {}, i.tenant),
    h('dt', {}, 'Owner'), h('dd', {}, i.owner || 'nobody'),
    h('dt', {}, 'Seen'), h('dd', {}, `${fmtTime(i.first_seen)} → ${fmtTime(i.last_seen)}`),
    h('dt', {}, 'Grouped by'), h('dd', {}, i.keys.join(', ')),
    i.campaign ? [h('dt', {}, 'Campaign'), h('dd', {}, h('span', { class: 'campaign-badge' }, `campaign ${i.campaign}: this attacker is active at several institutions`))] : null));
  if (canWrite) {
    const next = INCIDENT_STATUSES[Math.min(INCIDENT_STATUSES.indexOf(i.status) + 1, INCIDENT_STATUSES.length - 1)];
    const form = h('form', { class: 'workflow', id: 'incident-form' },
      label('Status', select('w-status', INCIDENT_STATUSES.map(s => [s, s]), next)),
      label('Owner', h('input', { id: 'w-owner', value: i.owner || session.me.user, size: 14 })),
      label('Note', h('textarea', { id: 'w-note', rows: 2, cols: 50, placeholder: 'what was found or done' })),
      h('button', { type: 'submit' }, 'Save'));
    form.addEventListener('submit', async ev => {
      ev.preventDefault();
      const body = { status: $('#w-status').value, owner: $('#w-owner').value.trim() || null };
      const note = $('#w-note').value.trim();
      if (note) body.note = note;
      try {
        await api('/api/incidents/' + id, { method: 'POST', body });
        toast('Incident updated');
        route();
      } catch (e) { toast(e.message, 'error'); }
    });
    main.appendChild(form);
  }
  main.appendChild(h('h2', {}, `Alerts (${d.alert_list.length})`));
  main.appendChild(h('table', { class: 'grid', id: 'incident-alerts' },
    h('thead', {}, h('tr', {}, ['Last seen', 'Severity', 'Rule', 'Entity', 'Count', 'State'].map(t => h('th', {}, t)))),
    h('tbody', {}, d.alert_list.map(a => h('tr', {},
      h('td', {}, fmtTime(a.last_seen)), h('td', {}, levelBadge(a.level)), h('td', {}, a.rule_title),
      h('td', {}, a.entity), h('td', { class: 'num' }, a.count), h('td', {}, a.triage.state))))));
  main.appendChild(h('h2', {}, 'Notes'));
  main.appendChild(h('ul', { class: 'notes', id: 'incident-notes' },
    d.notes.length ? d.notes.map(n => h('li', {}, h('span', { class: 'muted' }, `${fmtTime(n.time)} · ${n.author}: `), n.text)) : h('li', { class: 'muted' }, 'No notes yet.')));
  main.appendChild(h('h2', {}, 'Tasks'));
  main.appendChild(h('ul', { class: 'tasks', id: 'incident-tasks' },
    d.tasks.length ? d.tasks.map(t => h('li', { class: t.done_by ? 'done' : '' },
      h('label', {}, h('input', { type: 'checkbox', checked: !!t.done_by, disabled: !canWrite,
        onchange: async ev => {
          try { await api(`/api/incidents/${id}/tasks/${t.id}`, { method: 'POST', body: { done: ev.target.checked } }); route(); }
          catch (e) { toast(e.message, 'error'); }
        } }), ' ', t.text),
      h('span', { class: 'muted' }, t.done_by ? ` — done by ${t.done_by} ${fmtTime(t.done_at)}` : ` — added by ${t.author}`))) : h('li', { class: 'muted' }, 'No tasks yet.')));
  if (canWrite) {
    const add = h('form', { class: 'workflow', id: 'task-form' }, h('input', { id: 'task-text', size: 50, placeholder: 'a task, e.g. reset the password of jlee' }), h('button', { type: 'submit' }, 'Add task'));
    add.addEventListener('submit', async ev => {
      ev.preventDefault();
      const text = $('#task-text').value.trim();
      if (!text) return;
      try { await api(`/api/incidents/${id}/tasks`, { method: 'POST', body: { text } }); route(); }
      catch (e) { toast(e.message, 'error'); }
    });
    main.appendChild(add);
  }
  main.appendChild(h('h2', {}, `Evidence (${d.evidence.length})`));
  main.appendChild(h('table', { class: 'grid compact', id: 'incident-evidence' },
    h('thead', {}, h('tr', {}, ['Event time', 'Event', 'Why', 'Pinned by', ''].map(x => h('th', {}, x)))),
    h('tbody', {}, d.evidence.length ? d.evidence.map(e => h('tr', {},
      h('td', { class: 'time' }, fmtTime(e.event_time)), h('td', { class: 'summary' }, summarize(e.event)),
      h('td', {}, e.note), h('td', { class: 'muted' }, `${e.pinned_by} ${fmtTime(e.pinned)}`),
      h('td', {}, canWrite ? h('button', { class: 'small', onclick: async () => {
        try { await api(`/api/incidents/${id}/evidence/${e.id}/remove`, { method: 'POST' }); toast('Evidence removed'); route(); }
        catch (err) { toast(err.message, 'error'); }
      } }, 'Remove') : ''))) : h('tr', { class: 'empty' }, h('td', { colspan: 5 }, 'No evidence pinned yet: pin events from the timeline below.')))));
  if (canWrite && !session.me.tenant && ['admin', 'center'].includes(session.me.role)) {
    await shareForm(main, id, i.status);
  }
  main.appendChild(h('div', { class: 'export' }, 'Export: ',
    h('a', { href: `/api/incidents/${id}/report?format=html`, id: 'export-html', download: `incident-${id}.html` }, 'HTML report'), ' · ',
    h('a', { href: `/api/incidents/${id}/report?format=json`, id: 'export-json', download: `incident-${id}.json` }, 'JSON')));
  const t = await api(`/api/incidents/${id}/timeline` + query({ before_mins: 60, after_mins: 60, limit: 500 }));
  main.appendChild(h('h2', {}, `Timeline (${t.total} event${t.total === 1 ? '' : 's'} of the involved entities, an hour around the incident)`));
  const pinned = new Set(d.evidence.map(e => e.event_ref));
  const pin = async (e, ref) => {
    const note = prompt('Why does this event matter? (kept with the evidence)', '');
    if (note === null) return;
    try {
      await api(`/api/incidents/${id}/evidence`, { method: 'POST', body: { ref, time: e['@timestamp'], note } });
      toast('Event pinned as evidence');
      route();
    } catch (err) { toast(err.message, 'error'); }
  };
  main.appendChild(h('table', { class: 'grid compact', id: 'incident-timeline' },
    h('thead', {}, h('tr', {}, ['Time', 'Event', ''].map(x => h('th', {}, x)))),
    h('tbody', {}, t.events.map((e, n) => h('tr', {}, h('td', { class: 'time' }, fmtTime(e['@timestamp'])), h('td', { class: 'summary' }, summarize(e)),
      h('td', {}, pinned.has(t.refs[n]) ? h('span', { class: 'muted' }, 'pinned')
        : canWrite ? h('button', { class: 'small pin', onclick: () => pin(e, t.refs[n]) }, 'Pin') : ''))))));
  if (t.total > t.events.length) main.appendChild(h('p', { class: 'muted' }, `the latest ${t.events.length} are shown; the JSON report holds them as well`));
}

// Sharing a confirmed incident with the hub's partners (POST /api/incidents/ID/publish).
async function shareForm(main, id, status) {
  let collections = [];
  try { ({ collections } = await api('/api/intel/collections')); } catch (e) { return; }
  if (!collections.length) return;
  const confirmed = ['containment', 'eradication', 'recovery', 'closed'].includes(status);
  const form = h('form', { class: 'workflow', id: 'share-form' },
    label('Share with partners: collection', select('share-collection', collections.map(c => [c.name, `${c.title} (${c.objects} objects)`]), collections[0].name)),
    label('TLP', select('share-tlp', [['clear', 'TLP:CLEAR'], ['green', 'TLP:GREEN'], ['amber', 'TLP:AMBER'], ['amber+strict', 'TLP:AMBER+STRICT']], 'amber')),
    h('button', { type: 'submit', disabled: !confirmed, title: confirmed ? '' : 'confirm the incident first: containment or later' }, 'Publish as STIX'));
  form.addEventListener('submit', async ev => {
    ev.preventDefault();
    try {
      const r = await api(`/api/incidents/${id}/publish`, { method: 'POST', body: { collection: $('#share-collection').value, tlp: $('#share-tlp').value } });
      toast(`Published: ${r.objects} STIX objects in ${r.collection} as TLP:${r.tlp.toUpperCase()}`);
    } catch (e) { toast(e.message, 'error'); }
  });
  main.appendChild(form);
}

// ---- the situation board -------------------------------------------------------------

const ingestSeen = new Map();

async function boardPage(main) {
  const hours = h('select', { id: 'b-hours' }, [1, 6, 24, 72, 168].map(n => h('option', { value: n, selected: n === 24 }, n < 48 ? `${n} h` : `${n / 24} days`)));
  main.appendChild(h('div', { class: 'page-head' }, h('h1', {}, 'Situation board'), label('Window', hours),
    h('span', { class: 'muted', id: 'board-updated' }, '')));
  const grid = h('div', { class: 'board' });
  main.appendChild(grid);
  const panel = (id, title, wide) => {
    const body = h('div', { class: 'panel-body' });
    grid.appendChild(h('section', { class: 'panel' + (wide ? ' wide' : ''), id }, h('h2', {}, title), body));
    return body;
  };
  const p = {
    risk: panel('risk', 'Risk index per institution', true),
    series: panel('series', 'Alerts over time by severity', true),
    attackers: panel('attackers', 'Top attackers'),
    targets: panel('targets', 'Top targets'),
    tactics: panel('tactics', 'ATT&CK tactics per institution', true),
    ingest: panel('ingest', 'Ingest health per source', true),
    retro: panel('retro', 'Retro-hunts (indicators arriving in the hub, searched in stored events)', true),
  };
  // Only a scale-out center (and a center-wide user) has towers to show.
  let towersPanel = null;
  const draw = async () => {
    const n = Number(hours.value);
    const { board, ingest, retro_hunts } = await api('/api/board' + query({ hours: n }));
    const levels = LEVELS.map((l, k) => ({ name: l, cls: l, values: board.series.map(b => b.levels[k]) }));
    clear(p.series).appendChild(Charts.stackedBars(board.series.map(b => b.start), levels, { spanHours: n }));
    p.series.appendChild(h('div', { class: 'legend-row' }, LEVELS.map(l => h('span', { class: 'key ' + l }, l))));
    if (board.capped) p.series.appendChild(h('p', { class: 'muted' }, `the newest ${board.alerts} alerts of the window are shown`));
    clear(p.attackers).appendChild(Charts.hbars(board.attackers.map(t => ({ label: t.value, value: t.alerts, cls: t.level, note: t.tenants.join(', ') }))));
    clear(p.targets).appendChild(Charts.hbars(board.targets.map(t => ({ label: t.value, value: t.alerts, cls: t.level, note: t.tenants.join(', ') }))));
    const cell = new Map(board.tactics.map(c => [c.tenant + '|' + c.tactic, c.alerts]));
    const rows = [...new Set(board.tactics.map(c => c.tenant))].sort();
    clear(p.tactics).appendChild(Charts.heatmap(rows, TACTICS, (r, c) => cell.get(r + '|' + c) || 0));
    const cluster = await api('/api/cluster').catch(() => null);
    const towerOf = new Map();
    for (const t of (cluster && cluster.towers) || []) for (const tenant of t.tenants) towerOf.set(tenant, t.site);
    await drawRisk(p.risk, n, cluster ? (tenant => towerOf.get(tenant) || cluster.site) : null);
    drawIngest(p.ingest, ingest);
    drawRetro(p.retro, retro_hunts);
    if (cluster && cluster.towers.length) {
      if (!towersPanel) towersPanel = panel('towers', 'Control towers', true);
      drawTowers(towersPanel, cluster);
    }
    $('#board-updated').textContent = `updated ${fmtTime(new Date().toISOString())}`;
  };
  hours.addEventListener('change', () => draw().catch(e => toast(e.message, 'error')));
  await draw();
  session.refresh = setInterval(() => draw().catch(() => {}), 10000);
}

// Each tower's link as the center sees it: state, what it has not taken yet, and when
// it last heard from the tower.
function drawTowers(el, cluster) {
  clear(el);
  // Unknown until the center has heard from the tower on that stream.
  const behind = (t, stream) => { const s = t.sources.find(x => x.stream === stream); return s && s.last_seen_secs !== null && s.last_seen_secs !== undefined ? s.lag : null; };
  const heard = t => {
    const secs = t.sources.map(s => s.last_seen_secs).filter(v => v !== null && v !== undefined);
    return secs.length ? `${Math.max(...secs).toFixed(0)} s ago` : 'never';
  };
  el.appendChild(h('table', { class: 'grid compact', id: 'towers-table' },
    h('thead', {}, h('tr', {}, ['Tower', 'Institutions', 'Link', 'Events behind', 'Alerts behind', 'Last heard'].map(t => h('th', {}, t)))),
    h('tbody', {}, cluster.towers.map(t => h('tr', { class: t.link === 'up' ? '' : 'stale', 'data-tower': t.site },
      h('td', {}, t.site), h('td', {}, t.tenants.join(', ') || '—'),
      h('td', { class: t.link === 'up' ? '' : 'hot' }, t.link),
      h('td', { class: 'num' }, behind(t, 'EVENTS') ?? '—'), h('td', { class: 'num' }, behind(t, 'ALERTS') ?? '—'),
      h('td', {}, heard(t)))))));
  el.appendChild(h('p', { class: 'muted' }, `This center: ${cluster.site}. While a link is down, each tower keeps what the center has not taken and alerts on its own; “behind” counts only what the center can see.`));
}

async function drawRisk(el, hours, towerOf) {
  const since = new Date(Date.now() - hours * 3600e3).toISOString();
  const [{ institutions }, { series }] = await Promise.all([api('/api/risk'), api('/api/risk/series' + query({ since }))]);
  const byTenant = new Map();
  for (const pt of series) {
    if (!byTenant.has(pt.tenant)) byTenant.set(pt.tenant, []);
    byTenant.get(pt.tenant).push({ t: pt.start, v: pt.index });
  }
  clear(el).appendChild(Charts.lines([...byTenant].sort().map(([name, points]) => ({ name, points })), { maxY: 100, spanHours: hours }));
  el.appendChild(h('table', { class: 'grid compact', id: 'risk-table' },
    h('thead', {}, h('tr', {}, ['Institution', ...(towerOf ? ['Site'] : []), 'Index', 'Trend', 'Anomaly', 'Incident probability', 'Main driver'].map(t => h('th', {}, t)))),
    h('tbody', {}, institutions.map(s => h('tr', {},
      h('td', {}, s.tenant), ...(towerOf ? [h('td', {}, towerOf(s.tenant))] : []), h('td', { class: 'num' }, s.index.toFixed(1)),
      h('td', {}, `${s.trend.direction} (${s.trend.slope_per_hour >= 0 ? '+' : ''}${s.trend.slope_per_hour.toFixed(1)}/h)`),
      h('td', { class: 'num' }, s.anomaly.toFixed(1)),
      h('td', { class: 'num' + (s.over_threshold ? ' hot' : '') }, s.incident_probability === null || s.incident_probability === undefined ? '—' : (100 * s.incident_probability).toFixed(0) + ' %'),
      h('td', {}, s.drivers && s.drivers[0] ? s.drivers[0].feature : '—'))))));
}

function drawIngest(el, ingest) {
  clear(el);
  if (!ingest) { el.appendChild(h('p', { class: 'muted' }, 'Sources are shared by institutions: their health is shown to center-wide users.')); return; }
  const now = Date.now();
  el.appendChild(h('table', { class: 'grid compact', id: 'ingest-table' },
    h('thead', {}, h('tr', {}, ['Source', 'Events', 'Events/s', 'Dead letters', 'Duplicates', 'Last seen'].map(t => h('th', {}, t)))),
    h('tbody', {}, ingest.map(s => {
      const prev = ingestSeen.get(s.source);
      const rate = prev ? (s.events - prev.events) / Math.max(1, (now - prev.at) / 1000) : null;
      ingestSeen.set(s.source, { events: s.events, at: now });
      const stale = !s.last_seen || now - new Date(s.last_seen).getTime() > 300e3;
      return h('tr', { class: stale ? 'stale' : '' },
        h('td', {}, s.source), h('td', { class: 'num' }, Charts.formatCount(s.events)),
        h('td', { class: 'num' }, rate === null ? '…' : rate.toFixed(1)),
        h('td', { class: 'num' + (s.dead_letters ? ' hot' : '') }, s.dead_letters),
        h('td', { class: 'num' }, s.duplicates), h('td', {}, ago(s.last_seen)));
    }))));
  if (!ingest.length) el.appendChild(h('p', { class: 'muted' }, 'Nothing received since the server started.'));
}

// A truncated retro-hunt read only the newest matching events: alerts on older ones are
// missing without a trace, so the officer is told, with what to do.
function drawRetro(el, passes) {
  clear(el);
  if (!passes) { el.appendChild(h('p', { class: 'muted' }, 'Retro-hunts cover every institution: they are shown to center-wide users.')); return; }
  if (!passes.length) { el.appendChild(h('p', { class: 'muted' }, 'No indicator has arrived in the hub since the server started keeping retro-hunts.')); return; }
  const cut = passes.filter(r => r.truncated);
  if (cut.length) {
    el.appendChild(h('p', { class: 'warning', id: 'retro-truncated' },
      `${cut.length} of the last ${passes.length} retro-hunts were truncated: their queries matched more events than are read (intel.retro_hunt_max_events), so only the newest were hunted. Search the indicators over older events.`));
  }
  el.appendChild(h('table', { class: 'grid compact', id: 'retro-table' },
    h('thead', {}, h('tr', {}, ['When', 'New indicators', 'Events matched', 'Events checked', 'Alerts', 'Complete'].map(t => h('th', {}, t)))),
    h('tbody', {}, passes.map(r => h('tr', { class: r.truncated ? 'hot' : '' },
      h('td', {}, fmtTime(r.at)), h('td', { class: 'num' }, r.new_indicators),
      h('td', { class: 'num' }, Charts.formatCount(r.matched)), h('td', { class: 'num' }, Charts.formatCount(r.events_checked)),
      h('td', { class: 'num' }, r.alerts), h('td', {}, r.truncated ? 'truncated: the newest were hunted' : 'yes'))))));
}

// ---- event search ----------------------------------------------------------------------

async function searchPage(main) {
  const ts = await tenants();
  main.appendChild(h('div', { class: 'page-head' }, h('h1', {}, 'Event search')));
  const form = h('form', { class: 'filters search', id: 'search-form' },
    label('Query', h('input', { id: 'q', size: 60, placeholder: 'event.code:4625 AND source.ip:203.0.113.*', value: sessionStorage.getItem('q') || '' })),
    label('Institution', select('s-tenant', tenantChoices(ts), session.me.tenant || '')),
    label('Last', select('s-range', [['1', '1 hour'], ['24', '24 hours'], ['168', '7 days'], ['720', '30 days']], '24')),
    h('button', { type: 'submit' }, 'Search'));
  const out = h('div', { id: 'search-results' });
  main.appendChild(form);
  main.appendChild(h('p', { class: 'muted help' }, 'Query language: field:value, wildcards (*), ranges field:[a TO b], comparisons field:>=10, AND / OR / NOT, parentheses, quoted phrases, free text.'));
  main.appendChild(out);
  form.addEventListener('submit', async ev => {
    ev.preventDefault();
    const q = $('#q').value.trim();
    sessionStorage.setItem('q', q);
    const hours = Number($('#s-range').value);
    const bucket = Math.max(60, Math.round(hours * 3600 / 60));
    const params = { q, tenant: $('#s-tenant').value, from: `now-${hours}h`, to: 'now', limit: 100, histogram: bucket };
    clear(out).appendChild(h('p', { class: 'muted' }, 'searching…'));
    try {
      const r = await api('/api/events' + query(params));
      clear(out);
      out.appendChild(h('p', { id: 'search-total' }, `${r.total} matching event${r.total === 1 ? '' : 's'}`, r.total > r.events.length ? ` (newest ${r.events.length} shown)` : ''));
      out.appendChild(Charts.histogram(r.histogram || [], { height: 160, spanHours: hours }));
      out.appendChild(h('table', { class: 'grid', id: 'events' },
        h('thead', {}, h('tr', {}, ['Time', 'Institution', 'Summary'].map(t => h('th', {}, t)))),
        h('tbody', {}, r.events.map(e => {
          const row = h('tr', { class: 'link' }, h('td', { class: 'time' }, fmtTime(e['@timestamp'])), h('td', {}, (e.organization && e.organization.id) || e['organization.id'] || ''), h('td', { class: 'summary' }, summarize(e)));
          row.addEventListener('click', () => {
            const next = row.nextSibling;
            if (next && next.classList.contains('raw')) { next.remove(); return; }
            row.after(h('tr', { class: 'raw' }, h('td', { colspan: 3 }, h('pre', {}, JSON.stringify(e, null, 2)))));
          });
          return row;
        }))));
    } catch (e) {
      clear(out).appendChild(h('p', { class: 'error', id: 'search-error' }, e.message));
    }
  });
  if ($('#q').value) form.requestSubmit();
}

// A one-line summary of an event: its message or its most telling fields.
function summarize(e) {
  const flat = {};
  (function walk(o, p) {
    for (const [k, v] of Object.entries(o)) {
      if (v && typeof v === 'object' && !Array.isArray(v)) walk(v, p + k + '.');
      else flat[p + k] = v;
    }
  })(e, '');
  if (flat.message) return String(flat.message).slice(0, 300);
  const keys = ['event.code', 'event.action', 'source.ip', 'destination.ip', 'user.name', 'host.name', 'process.command_line', 'url.original', 'dns.question.name'];
  return keys.filter(k => flat[k] !== undefined).map(k => `${k}=${flat[k]}`).join('  ') || Object.keys(flat).slice(0, 6).map(k => `${k}=${flat[k]}`).join('  ');
}

// ---- response: playbook runs and block lists --------------------------------------------

async function responsePage(main) {
  main.appendChild(h('div', { class: 'page-head' }, h('h1', {}, 'Response')));
  const center = !session.me.tenant && ['admin', 'center'].includes(session.me.role);
  const runsEl = h('section', { id: 'runs' });
  const listsEl = h('section', { id: 'blocklists' });
  main.appendChild(runsEl);
  main.appendChild(listsEl);
  const load = async () => {
    const { runs } = await api('/api/playbook-runs' + query({ limit: 100 }));
    clear(runsEl).appendChild(h('h2', {}, 'Playbook runs'));
    const pending = runs.filter(r => r.status === 'pending');
    runsEl.appendChild(h('p', { class: 'muted' }, `${pending.length} waiting for approval`));
    runsEl.appendChild(h('table', { class: 'grid', id: 'runs-table' },
      h('thead', {}, h('tr', {}, ['#', 'Playbook', 'Alert', 'Institution', 'Status', 'Plan', 'Decided by', ''].map(t => h('th', {}, t)))),
      h('tbody', {}, runs.map(r => h('tr', { 'data-run': r.id, class: r.status },
        h('td', {}, r.id), h('td', {}, r.playbook), h('td', {}, r.alert), h('td', {}, r.tenant),
        h('td', {}, h('span', { class: 'status ' + r.status }, r.status)),
        h('td', { class: 'plan' }, describePlan(r.plan)),
        h('td', {}, r.decided_by || ''),
        h('td', {}, r.status === 'pending' && center ? [
          h('button', { class: 'approve', onclick: () => decide(r.id, 'approve') }, 'Approve'),
          h('button', { class: 'reject secondary', onclick: () => decide(r.id, 'reject') }, 'Reject')] : ''))))));
    if (!runs.length) runsEl.appendChild(h('p', { class: 'muted' }, 'No playbook has run yet.'));
    const { blocklists } = await api('/api/blocklists');
    clear(listsEl).appendChild(h('h2', {}, 'Block lists'));
    for (const l of blocklists) {
      const { entries } = await api(`/api/blocklists/${encodeURIComponent(l.name)}.json`);
      listsEl.appendChild(h('div', { class: 'blocklist', 'data-list': l.name },
        h('h3', {}, l.name, ' ', h('a', { href: `/api/blocklists/${encodeURIComponent(l.name)}.txt`, class: 'muted' }, `${l.name}.txt`)),
        h('table', { class: 'grid compact' },
          h('thead', {}, h('tr', {}, ['Entry', 'Institution', 'Reason', 'Added by', 'Expires'].map(t => h('th', {}, t)))),
          h('tbody', {}, entries.map(e => h('tr', {}, h('td', { class: 'entry' }, e.value), h('td', {}, e.tenant || 'all'),
            h('td', {}, e.reason), h('td', {}, e.added_by), h('td', {}, e.expires ? fmtTime(e.expires) : 'never')))))));
    }
    if (!blocklists.length) listsEl.appendChild(h('p', { class: 'muted' }, 'No block list has entries yet.'));
  };
  await load();
  session.refresh = setInterval(() => load().catch(() => {}), 15000);
}

function describePlan(plan) {
  if (!plan) return '';
  if (!Array.isArray(plan)) return plan.error ? `no plan: ${plan.error}` : JSON.stringify(plan);
  return plan.map(a => {
    switch (a.action) {
      case 'block': return `block ${a.value} in ${a.list}${a.tenant ? ' for ' + a.tenant : ''}${a.expires_secs ? ` for ${Math.round(a.expires_secs / 3600)} h` : ''}`;
      case 'webhook': return `POST ${a.url}`;
      case 'incident': return `incident of alert ${a.alert}${a.status ? ' → ' + a.status : ''}${a.note ? ' + note' : ''}`;
      case 'email': return `e-mail ${a.to.join(', ')}: ${a.subject}`;
      case 'tag': return `tag alert ${a.alert}: ${a.tags.join(', ')}`;
      case 'publish': return `share the incident of alert ${a.alert} with the hub: collection ${a.collection}, TLP:${a.tlp.toUpperCase()}`;
      default: return JSON.stringify(a);
    }
  }).join('; ');
}

async function decide(id, verdict) {
  try {
    await api(`/api/playbook-runs/${id}/${verdict}`, { method: 'POST', body: {} });
    toast(`Run ${id} ${verdict === 'approve' ? 'approved' : 'rejected'}`);
    route();
  } catch (e) { toast(e.message, 'error'); }
}

// ---- vulnerabilities: inventories and findings ------------------------------------------

const SSVC_ORDER = { 'Act': 0, 'Attend': 1, 'Track*': 2, 'Track': 3 };

function ssvcBadge(d) {
  const cls = { 'Act': 'critical', 'Attend': 'high', 'Track*': 'medium', 'Track': 'low' }[d] || 'low';
  return h('span', { class: `level ${cls} ssvc` }, d);
}

async function vulnsPage(main) {
  main.appendChild(h('div', { class: 'page-head' }, h('h1', {}, 'Vulnerabilities')));
  const ts = await tenants();
  const form = h('form', { id: 'sbom-form', class: 'filters' },
    label('Institution', select('sbom-tenant', session.me.tenant ? [[session.me.tenant, session.me.tenant]] : ts.map(t => [t, t]), session.me.tenant || ts[0])),
    label('System', h('input', { id: 'sbom-system', required: true, maxlength: 200, placeholder: 'public-portal' })),
    label('Exposure', select('sbom-exposure', [['internet-facing', 'internet-facing'], ['internal', 'internal'], ['unknown', 'unknown']], 'unknown')),
    label('Owner', h('input', { id: 'sbom-owner', maxlength: 200 })),
    label('SBOM or lockfile', h('input', { id: 'sbom-file', type: 'file', required: true })),
    h('button', { type: 'submit' }, 'Upload'));
  const readOnly = session.me.role === 'viewer';
  if (!readOnly) main.appendChild(h('section', { id: 'sbom-upload' }, h('h2', {}, 'Add an inventory'), form,
    h('p', { class: 'muted' }, 'CycloneDX or SPDX SBOMs, or lockfiles (Cargo.lock, package-lock.json, yarn.lock, pnpm-lock.yaml, poetry.lock, Pipfile.lock, requirements.txt, go.mod, composer.lock, Gemfile.lock, pom.xml). The file is read, never run.')));
  const sbomsEl = h('section', { id: 'sboms' });
  const findingsEl = h('section', { id: 'vuln-findings' });
  const sitesEl = h('section', { id: 'web-sites' });
  main.appendChild(sbomsEl);
  main.appendChild(findingsEl);
  main.appendChild(sitesEl);
  const load = async () => {
    await loadSites(sitesEl);
    const { sboms } = await api('/api/vuln/sboms');
    clear(sbomsEl).appendChild(h('h2', {}, 'Inventories'));
    if (!sboms.length) sbomsEl.appendChild(h('p', { class: 'muted' }, 'No inventory stored yet.'));
    else sbomsEl.appendChild(h('table', { class: 'grid compact', id: 'sboms-table' },
      h('thead', {}, h('tr', {}, ['#', 'Institution', 'System', 'Exposure', 'File', 'Format', 'Components', 'Skipped', 'Added', ''].map(t => h('th', {}, t)))),
      h('tbody', {}, sboms.map(b => h('tr', { 'data-sbom': b.id },
        h('td', {}, b.id), h('td', {}, b.tenant), h('td', {}, b.system), h('td', {}, b.exposure), h('td', {}, b.source),
        h('td', {}, b.format), h('td', {}, b.components), h('td', {}, b.skipped), h('td', {}, fmtTime(b.added)),
        h('td', {}, readOnly ? '' : h('button', { class: 'secondary remove-sbom', onclick: () => removeSbom(b.id) }, 'Remove')))))));
    const { findings } = await api('/api/vuln/findings' + query({ limit: 2000 }));
    findings.sort((a, b) => (SSVC_ORDER[a.finding.ssvc] - SSVC_ORDER[b.finding.ssvc]) || (b.finding.kev - a.finding.kev));
    clear(findingsEl).appendChild(h('h2', {}, 'Findings'));
    const kev = findings.filter(f => f.finding.kev).length;
    findingsEl.appendChild(h('p', { class: 'muted', id: 'findings-count' }, `${findings.length} findings, ${kev} in CISA's KEV catalog`));
    if (findings.length) findingsEl.appendChild(h('table', { class: 'grid compact', id: 'findings-table' },
      h('thead', {}, h('tr', {}, ['SSVC', 'Advisory', 'Package', 'Version', 'Ecosystem', 'Fixed in', 'Institution', 'System', 'First seen'].map(t => h('th', {}, t)))),
      h('tbody', {}, findings.map(f => h('tr', { class: f.finding.kev ? 'kev' : '' },
        h('td', {}, ssvcBadge(f.finding.ssvc), f.finding.kev ? h('span', { class: 'badge kev-badge', title: `KEV, due ${f.finding.kev_due_date || ''}` }, 'KEV') : ''),
        h('td', { title: f.finding.summary }, f.finding.id, f.finding.aliases.length ? h('div', { class: 'muted' }, f.finding.aliases.slice(0, 2).join(', ')) : ''),
        h('td', {}, f.finding.package), h('td', {}, f.finding.version), h('td', {}, f.finding.ecosystem),
        h('td', {}, f.finding.fixed.join(', ') || 'no fix'), h('td', {}, f.tenant), h('td', {}, f.system), h('td', {}, fmtTime(f.first_seen)))))));
  };
  form.addEventListener('submit', async ev => {
    ev.preventDefault();
    const file = $('#sbom-file').files[0];
    if (!file) return;
    try {
      const text = await file.text();
      const r = await api('/api/vuln/sboms' + query({
        tenant: $('#sbom-tenant').value, system: $('#sbom-system').value, exposure: $('#sbom-exposure').value,
        owner: $('#sbom-owner').value, file: file.name,
      }), { method: 'POST', body: text, headers: { 'Content-Type': 'application/octet-stream' } });
      toast(`${file.name}: ${r.components} components, ${r.new_findings} new findings, ${r.alerts} alerts`);
      form.reset();
      await load();
    } catch (e) { toast(e.message, 'error'); }
  });
  await load();
}

// The institutions' web sites and their latest inspection (`haechi web site add`).
async function loadSites(el) {
  const { sites } = await api('/api/vuln/web');
  clear(el).appendChild(h('h2', {}, 'Web sites'));
  if (!sites.length) {
    el.appendChild(h('p', { class: 'muted' }, 'No site under inspection (haechi web site add --tenant ID URL).'));
    return;
  }
  el.appendChild(h('table', { class: 'grid compact', id: 'sites-table' },
    h('thead', {}, h('tr', {}, ['Institution', 'Site', 'Inspected', 'TLS versions', 'Certificate until', 'Failing checks'].map(t => h('th', {}, t)))),
    h('tbody', {}, sites.map(s => {
      const tls = s.result.tls;
      const versions = tls ? tls.protocols.filter(p => p.offered).map(p => p.protocol).join(' ') : '';
      const cert = tls && tls.certificate ? tls.certificate.certificates[0] : null;
      return h('tr', { 'data-site': s.site.id, class: s.failing.length ? 'failing' : '' },
        h('td', {}, s.site.tenant), h('td', {}, s.site.url), h('td', {}, fmtTime(s.at)),
        h('td', {}, versions || '—'),
        h('td', { class: cert && cert.days_left < 30 ? 'error' : '' }, cert ? `${cert.not_after.slice(0, 10)} (${cert.days_left} d)` : '—'),
        h('td', {}, s.failing.length ? s.failing.map(f => h('span', { class: 'badge check-badge' }, f)) : 'none'));
    }))));
}

async function removeSbom(id) {
  try {
    await api(`/api/vuln/sboms/${id}/remove`, { method: 'POST' });
    toast(`Inventory ${id} removed`);
    route();
  } catch (e) { toast(e.message, 'error'); }
}

// ---- Domain Watch: protected names and their look-alikes ---------------------------------

async function domainsPage(main) {
  main.appendChild(h('div', { class: 'page-head' }, h('h1', {}, 'Domains')));
  const ts = await tenants();
  const readOnly = session.me.role === 'viewer';
  const form = h('form', { id: 'protect-form', class: 'filters' },
    label('Institution', select('protect-tenant', session.me.tenant ? [[session.me.tenant, session.me.tenant]] : ts.map(t => [t, t]), session.me.tenant || ts[0])),
    label('Domain', h('input', { id: 'protect-domain', required: true, maxlength: 253, placeholder: 'seoul.go.kr' })),
    h('button', { type: 'submit' }, 'Protect'));
  if (!readOnly) main.appendChild(h('section', { id: 'protect' }, h('h2', {}, 'Protect a name'), form,
    h('p', { class: 'muted' }, 'The names an institution owns are never its look-alikes. Protecting a name searches every name already known at once.')));
  const protectedEl = h('section', { id: 'protected-names' });
  const lookEl = h('section', { id: 'look-alikes' });
  main.appendChild(protectedEl);
  main.appendChild(lookEl);
  const load = async () => {
    const p = await api('/api/domains/protected');
    const { alerts } = await api('/api/alerts' + query({ source: 'domain', limit: 1000 }));
    const byTarget = {};
    for (const a of alerts) {
      const t = a.details.target || '';
      (byTarget[t] = byTarget[t] || []).push(a);
    }
    clear(protectedEl).appendChild(h('h2', {}, 'Protected names'));
    protectedEl.appendChild(h('p', { class: 'muted', id: 'universe-size' },
      `${p.universe_names.toLocaleString()} names in the universe, ${p.seen_names.toLocaleString()} first seen since it was built`));
    if (!p.protected.length) protectedEl.appendChild(h('p', { class: 'muted' }, 'No protected name yet.'));
    else protectedEl.appendChild(h('table', { class: 'grid compact', id: 'protected-table' },
      h('thead', {}, h('tr', {}, ['Institution', 'Domain', 'Look-alikes', ''].map(t => h('th', {}, t)))),
      h('tbody', {}, p.protected.map(n => h('tr', { 'data-domain': n.domain },
        h('td', {}, n.tenant), h('td', {}, n.domain, n.unicode !== n.domain ? h('div', { class: 'muted' }, n.unicode) : ''),
        h('td', {}, new Set((byTarget[n.domain] || []).filter(a => a.tenant === n.tenant).map(a => a.details.name)).size),
        h('td', {}, readOnly ? '' : h('button', { class: 'secondary unprotect', onclick: () => unprotect(n.tenant, n.domain) }, 'Remove')))))));
    clear(lookEl).appendChild(h('h2', {}, 'Look-alikes and suspicious names'));
    if (!alerts.length) { lookEl.appendChild(h('p', { class: 'muted' }, 'None found.')); return; }
    alerts.sort((a, b) => b.details.score - a.details.score);
    lookEl.appendChild(h('table', { class: 'grid compact', id: 'look-alikes-table' },
      h('thead', {}, h('tr', {}, ['Level', 'Name', 'Kind', 'Imitates', 'Institution', 'Score', 'Evidence', 'First seen', 'State'].map(t => h('th', {}, t)))),
      h('tbody', {}, alerts.map(a => h('tr', { 'data-alert': a.id },
        h('td', {}, h('span', { class: `level ${a.level}` }, a.level)),
        h('td', {}, a.details.name, a.details.unicode ? h('div', { class: 'muted' }, a.details.unicode) : '', a.details.new ? h('span', { class: 'badge new-badge' }, 'new') : ''),
        h('td', {}, a.details.kind), h('td', {}, a.details.target || '—'), h('td', {}, a.tenant),
        h('td', {}, Number(a.details.score).toFixed(2)), h('td', { class: 'evidence' }, a.details.evidence),
        h('td', {}, fmtTime(a.first_seen)), h('td', {}, a.triage.state))))));
  };
  form.addEventListener('submit', async ev => {
    ev.preventDefault();
    try {
      const r = await api('/api/domains/protected', { method: 'POST', body: { tenant: $('#protect-tenant').value, domain: $('#protect-domain').value } });
      toast(`${r.domain} protected: ${r.look_alikes.length} look-alikes among ${r.searched_names.toLocaleString()} known names`);
      form.reset();
      await load();
    } catch (e) { toast(e.message, 'error'); }
  });
  await load();
}

async function unprotect(tenant, domain) {
  try {
    await api('/api/domains/protected/remove', { method: 'POST', body: { tenant, domain } });
    toast(`${domain} no longer protected`);
    route();
  } catch (e) { toast(e.message, 'error'); }
}

// ---- drills ----------------------------------------------------------------------------

// The drills the server keeps (haechi drill run --server), and one drill's score per
// technique: detected or not, by which rules, how fast, and what fired instead of a miss.
async function drillsPage(main, rest) {
  if (rest[0]) return drillPage(main, decodeURIComponent(rest[0]));
  main.appendChild(h('div', { class: 'page-head' }, h('h1', {}, 'Drills')));
  const { drills } = await api('/api/drills');
  if (!drills.length) {
    main.appendChild(h('p', { class: 'muted', id: 'no-drills' },
      'No drill yet. Run one with: haechi drill run --server URL --tenant ID DATASET…'));
    return;
  }
  main.appendChild(h('table', { class: 'grid compact', id: 'drills-table' },
    h('thead', {}, h('tr', {}, ['Drill', 'Institution', 'Started', 'Speed', 'Detected', 'Median time to detect'].map(t => h('th', {}, t)))),
    h('tbody', {}, drills.map(d => h('tr', { 'data-drill': d.id },
      h('td', {}, h('a', { href: `#/drills/${encodeURIComponent(d.id)}` }, d.name), h('div', { class: 'muted' }, d.id)),
      h('td', {}, d.tenant), h('td', {}, fmtTime(d.started)), h('td', {}, `${d.speed}×`),
      h('td', {}, `${d.detected} of ${d.techniques}`),
      h('td', {}, d.median_time_to_detect_s == null ? '—' : `${d.median_time_to_detect_s.toFixed(1)} s`))))));
}

async function drillPage(main, id) {
  const r = await api(`/api/drills/${encodeURIComponent(id)}`);
  main.appendChild(h('div', { class: 'page-head' },
    h('h1', {}, r.name), h('a', { href: '#/drills' }, 'All drills')));
  main.appendChild(h('p', { id: 'drill-summary' },
    `${r.drill} at ${r.tenant}, ${r.speed}× the recorded pace: ${r.detected} of ${r.techniques.length} techniques detected (${Math.round(r.share_detected * 100)} %), median time to detect ${r.median_time_to_detect_s == null ? '—' : r.median_time_to_detect_s.toFixed(1) + ' s'}, ${r.alerts} alerts.`));
  main.appendChild(h('table', { class: 'grid compact', id: 'drill-techniques' },
    h('thead', {}, h('tr', {}, ['Technique', 'Recording', 'Detected', 'Time to detect', 'Rules'].map(t => h('th', {}, t)))),
    h('tbody', {}, r.techniques.map(t => h('tr', { 'data-technique': t.technique, class: t.detected ? '' : 'missed' },
      h('td', {}, t.technique), h('td', {}, t.title, h('div', { class: 'muted' }, t.dataset)),
      h('td', {}, t.detected ? 'yes' : h('strong', {}, 'MISSED')),
      h('td', {}, t.time_to_detect_s == null ? '—' : `${t.time_to_detect_s.toFixed(2)} s`),
      h('td', {}, t.detected ? t.rules.join('; ') : (t.alerts_during_run.length ? 'fired instead: ' + t.alerts_during_run.join('; ') : 'no alert')))))));
  if (r.other_alerts.length) main.appendChild(h('p', { class: 'muted' }, 'Other alerts of the drill: ' + r.other_alerts.join('; ')));
  const secs = s => s == null ? '—' : `${Math.round(s)} s`;
  if (r.triage) main.appendChild(h('p', { id: 'drill-triage' },
    `Officers faced ${r.triage.alerts} alerts, grouped into ${r.triage.incidents} incidents` +
    (r.triage.alerts_per_incident == null ? '' : ` (${r.triage.alerts_per_incident.toFixed(1)} alerts per incident)`) +
    (r.triage.ungrouped ? `; ${r.triage.ungrouped} in no incident` : '') + '.'));
  main.appendChild(h('h2', {}, 'Officers'));
  if (!r.officers.length) main.appendChild(h('p', { class: 'muted', id: 'no-officers' }, 'Nobody has acted on the drill\'s alerts or incidents yet.'));
  else main.appendChild(h('table', { class: 'grid compact', id: 'drill-officers' },
    h('thead', {}, h('tr', {}, ['Officer', 'Alerts acknowledged', 'Median time to acknowledge', 'Incidents taken up', 'Median time to take up', 'Responded', 'Median time to respond'].map(t => h('th', {}, t)))),
    h('tbody', {}, r.officers.map(o => h('tr', {},
      h('td', {}, o.actor), h('td', {}, o.acknowledged), h('td', {}, secs(o.median_time_to_acknowledge_s)),
      h('td', {}, o.incidents_taken), h('td', {}, secs(o.median_time_to_take_s)),
      h('td', {}, o.responded), h('td', {}, secs(o.median_time_to_respond_s)))))));
}

// ---- start -----------------------------------------------------------------------------

document.addEventListener('DOMContentLoaded', async () => {
  $('#login-form').addEventListener('submit', login);
  $('#logout').addEventListener('click', logout);
  window.addEventListener('hashchange', route);
  try {
    session.me = await api('/api/auth/me');
    enterApp();
  } catch (_) {
    showLogin('');
  }
});
