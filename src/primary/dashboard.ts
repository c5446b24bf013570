import type { ServerResponse } from 'node:http';

/**
 * GET / on the admin listener: the built-in dashboard, one self-contained page (inline CSS and JS,
 * nothing fetched from elsewhere). It holds no data, so it is served without the admin token; its
 * script asks for the token (kept in sessionStorage), sends it as a Bearer on every fetch, and polls
 * the admin JSON endpoints and /metrics every REFRESH_MS. Live rates, the 5xx share and p99 come from
 * the difference between two polls of the counters and of the duration histogram's buckets, as
 * Prometheus' rate() and histogram_quantile() compute them.
 */
export function sendPage(res: ServerResponse): void {
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': PAGE_BYTES.length,
    'cache-control': 'no-store',
    // The page runs only its own inline script and talks only to this listener.
    'content-security-policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:",
    'x-frame-options': 'DENY',
  });
  res.end(PAGE_BYTES);
}

const REFRESH_MS = 2000;

const STYLE = `
:root { --bg:#f6f7f9; --card:#fff; --ink:#1d2330; --muted:#6b7385; --line:#e3e6eb; --ok:#1f9d55; --bad:#d64545; --warn:#c98a06; --accent:#2f6fde; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; background:var(--bg); color:var(--ink); }
header { display:flex; align-items:center; gap:16px; padding:12px 24px; background:#1d2330; color:#fff; flex-wrap:wrap; }
header h1 { font-size:18px; margin:0; letter-spacing:.5px; }
header .facts { display:flex; gap:16px; flex-wrap:wrap; color:#c9cfdb; font-size:13px; }
header .facts b { color:#fff; font-weight:600; }
header button { margin-left:auto; }
main { padding:16px 24px; display:grid; gap:16px; }
section { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:12px 16px; }
section h2 { font-size:15px; margin:0 0 8px; display:flex; gap:8px; align-items:baseline; }
section h2 small { color:var(--muted); font-weight:400; }
table { width:100%; border-collapse:collapse; }
th, td { text-align:left; padding:6px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
th { color:var(--muted); font-weight:500; font-size:12px; text-transform:uppercase; letter-spacing:.4px; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
tr:last-child td { border-bottom:none; }
code { font:12px ui-monospace,SFMono-Regular,Menlo,monospace; background:#f0f2f5; padding:1px 4px; border-radius:3px; }
.badge { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px; font-weight:600; color:#fff; background:var(--muted); }
.badge.up { background:var(--ok); } .badge.down { background:var(--bad); } .badge.degraded, .badge.half_open { background:var(--warn); }
.badge.closed { background:var(--ok); } .badge.open { background:var(--bad); }
.bad { color:var(--bad); font-weight:600; }
.muted { color:var(--muted); }
.endpoints { display:flex; flex-direction:column; gap:2px; }
.note { color:var(--muted); font-size:13px; }
#login { display:none; background:#fff8e1; border:1px solid #f0d58c; border-radius:8px; padding:12px 16px; }
#login input { font:inherit; padding:4px 8px; width:320px; max-width:100%; }
button { font:inherit; padding:4px 12px; border-radius:6px; border:1px solid var(--line); background:#fff; cursor:pointer; }
#error { color:var(--bad); } #error:empty { display:none; }
#login p { margin:0 0 8px; }
`;

// Plain ES2020 without template literals, so it sits inside this file's template string as is.
const SCRIPT = `
'use strict';
var REFRESH_MS = ${REFRESH_MS};
var TOKEN_KEY = 'sluice-admin-token';
var previous = null;
var $ = function (id) { return document.getElementById(id); };

function token() { return sessionStorage.getItem(TOKEN_KEY); }

function get(path, asText) {
  var headers = {};
  var t = token();
  if (t) headers.authorization = 'Bearer ' + t;
  return fetch(path, { headers: headers, cache: 'no-store' }).then(function (r) {
    if (r.status === 401) throw { unauthorized: true };
    if (r.status === 404) return null;
    if (!r.ok) throw new Error(path + ': HTTP ' + r.status);
    return asText ? r.text() : r.json();
  });
}

function el(tag, attrs, children) {
  var e = document.createElement(tag);
  for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
  (children || []).forEach(function (c) { e.append(c instanceof Node ? c : document.createTextNode(String(c))); });
  return e;
}

function badge(state) { return el('span', { class: 'badge ' + state }, [state.replace('_', '-')]); }

/* Prometheus text exposition: one sample per line, name{label="value",...} value. */
function parseMetrics(text) {
  var samples = [];
  text.split('\\n').forEach(function (line) {
    if (line === '' || line.charAt(0) === '#') return;
    var m = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\\{(.*)\\})?\\s+(\\S+)/.exec(line);
    if (!m) return;
    var labels = Object.create(null);
    var re = /([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\\\]|\\\\.)*)"/g;
    var l;
    while ((l = re.exec(m[2] || '')) !== null) labels[l[1]] = l[2].replace(/\\\\"/g, '"').replace(/\\\\n/g, '\\n').replace(/\\\\\\\\/g, '\\\\');
    samples.push({ name: m[1], labels: labels, value: Number(m[3]) });
  });
  return samples;
}

/* Per route: requests, 5xx and cumulative duration buckets (le → count), summed over the other labels. */
function routeCounters(samples) {
  // Route names are config names (constructor, toString and __proto__ are valid ones): no prototype.
  var routes = Object.create(null);
  var of = function (name) { return routes[name] || (routes[name] = { total: 0, errors: 0, buckets: Object.create(null), p99: null }); };
  samples.forEach(function (s) {
    if (s.name === 'sluice_requests_total') {
      var r = of(s.labels.route || '');
      r.total += s.value;
      if (s.labels.status_class === '5xx') r.errors += s.value;
    } else if (s.name === 'sluice_request_duration_seconds_bucket') {
      var b = of(s.labels.route || '').buckets;
      b[s.labels.le] = (b[s.labels.le] || 0) + s.value;
    } else if (s.name === 'sluice_request_duration_percentile_seconds' && s.labels.percentile === '99') {
      of(s.labels.route || '').p99 = s.value;
    }
  });
  return routes;
}

/* histogram_quantile over the bucket increases between two polls: linear within the bucket. */
function quantile(q, now, before) {
  var les = Object.keys(now).map(function (le) { return { le: le === '+Inf' ? Infinity : Number(le), key: le }; });
  les.sort(function (a, b) { return a.le - b.le; });
  var counts = les.map(function (x) { return now[x.key] - ((before && before[x.key]) || 0); });
  var total = counts.length ? counts[counts.length - 1] : 0;
  if (!(total > 0)) return null;
  var rank = q * total;
  for (var i = 0; i < les.length; i++) {
    if (counts[i] >= rank) {
      if (les[i].le === Infinity) return i > 0 ? les[i - 1].le : null;
      var lower = i > 0 ? les[i - 1].le : 0;
      var below = i > 0 ? counts[i - 1] : 0;
      var inBucket = counts[i] - below;
      return inBucket > 0 ? lower + (les[i].le - lower) * ((rank - below) / inBucket) : les[i].le;
    }
  }
  return null;
}

function seconds(s) {
  if (s === null || s === undefined) return '–';
  return s < 1 ? (s * 1000).toFixed(s < 0.01 ? 2 : 1) + ' ms' : s.toFixed(2) + ' s';
}

function matchText(m) {
  var parts = [];
  if (m.methods) parts.push(m.methods.join(','));
  if (m.hosts) parts.push(m.hosts.join(','));
  parts.push(m.path !== null ? m.path : m.prefix + '…');
  return parts.join(' ');
}

function renderRoutes(table, live) {
  var body = $('routes-body');
  body.replaceChildren();
  table.routes.forEach(function (r) {
    var l = live && live[r.name];
    var rate = l ? l.rate.toFixed(1) : '–';
    var ratio = l && l.ratio !== null ? (l.ratio * 100).toFixed(1) + ' %' : '–';
    var p99 = l ? seconds(l.p99) : '–';
    body.append(el('tr', { 'data-route': r.name }, [
      el('td', { class: 'num muted' }, [r.order + 1]),
      el('td', {}, [el('b', {}, [r.name])]),
      el('td', {}, [el('code', {}, [matchText(r.match)])]),
      el('td', {}, [r.upstream === null ? el('span', { class: 'muted' }, ['(answers itself)']) : r.upstream]),
      el('td', { class: 'muted' }, [r.stages.join(' → ') || '–']),
      el('td', { class: 'num', 'data-col': 'rate' }, [rate]),
      el('td', { class: 'num' + (l && l.ratio > 0 ? ' bad' : ''), 'data-col': 'errors' }, [ratio]),
      el('td', { class: 'num', 'data-col': 'p99' }, [p99]),
    ]));
  });
  var unmatched = live && live[''];
  if (unmatched && unmatched.rate > 0) {
    body.append(el('tr', { 'data-route': '' }, [
      el('td', {}, []), el('td', { colspan: 4, class: 'muted' }, ['(no route matched: 404)']),
      el('td', { class: 'num', 'data-col': 'rate' }, [unmatched.rate.toFixed(1)]), el('td', {}, []), el('td', {}, []),
    ]));
  }
  if (table.routes.length === 0) body.append(el('tr', {}, [el('td', { colspan: 8, class: 'muted' }, ['no routes'])]));
}

function upstreamState(u) {
  var healthy = u.endpoints.filter(function (e) { return e.healthy; }).length;
  if (u.endpoints.length > 0 && healthy === u.endpoints.length) return 'up';
  return healthy === 0 ? 'down' : 'degraded';
}

function renderUpstreams(data) {
  var body = $('upstreams-body');
  body.replaceChildren();
  data.upstreams.forEach(function (u) {
    var eps = el('div', { class: 'endpoints' }, u.endpoints.map(function (e) {
      var state = e.healthy ? 'up' : 'down';
      var why = e.ejected ? ' ejected' : e.active_down ? ' failing checks' : '';
      return el('div', {}, [badge(state), ' ', el('code', {}, [e.url]), el('span', { class: 'muted' }, [why + (e.weight === 0 ? ' drained' : '')])]);
    }));
    if (u.endpoints.length === 0) eps.append(el('span', { class: 'muted' }, ['no endpoints']));
    body.append(el('tr', { 'data-upstream': u.name }, [
      el('td', {}, [el('b', {}, [u.name])]),
      el('td', { 'data-col': 'state' }, [badge(upstreamState(u))]),
      el('td', {}, [u.circuit === null ? el('span', { class: 'muted' }, ['no breaker']) : badge(u.circuit)]),
      el('td', { class: 'num' }, [u.in_flight]),
      el('td', { class: 'muted' }, [u.balance + (u.discovery !== 'static' ? ' · ' + u.discovery : '')]),
      el('td', {}, [eps]),
    ]));
  });
}

function renderWorkers(data) {
  var body = $('workers-body');
  body.replaceChildren();
  if (data === null) {
    body.append(el('tr', {}, [el('td', { colspan: 7, class: 'muted' }, ['GET /workers is not served by this gateway'])]));
    return;
  }
  data.workers.forEach(function (w) {
    body.append(el('tr', {}, [
      el('td', { class: 'num' }, [w.index]),
      el('td', {}, [badge(w.alive ? 'up' : 'down')]),
      el('td', { class: 'num' }, [w.generation]),
      el('td', { class: 'num' }, [w.restarts]),
      el('td', { class: 'num' }, [w.in_flight]),
      el('td', { class: 'num' }, [w.event_loop_delay_p99_ms === null || w.event_loop_delay_p99_ms === undefined ? '–' : Number(w.event_loop_delay_p99_ms).toFixed(1) + ' ms']),
      el('td', { class: 'num' }, [w.heap_used_bytes ? (w.heap_used_bytes / 1048576).toFixed(1) + ' MiB' : '–']),
    ]));
  });
}

function renderFacts(ready, config) {
  $('ready').textContent = ready ? ready.status : 'not ready';
  $('generation').textContent = config ? config.generation : (ready && ready.generation) || '–';
  var r = config && config.last_reload;
  var reload = $('reload');
  reload.className = r && r.result === 'failed' ? 'bad' : '';
  reload.textContent = r ? r.result + ' (' + r.source + ', ' + new Date(r.at).toLocaleTimeString() + (r.code ? ', ' + r.code : '') + ')' : 'none since start';
  $('updated').textContent = new Date().toLocaleTimeString();
}

/* Live numbers per route: the change of each counter since the previous poll, over the time between. */
function liveRoutes(metricsText, at) {
  if (metricsText === null) return null;
  var now = routeCounters(parseMetrics(metricsText));
  var live = Object.create(null);
  var before = previous;
  previous = { at: at, routes: now };
  if (before === null) return null;
  var dt = (at - before.at) / 1000;
  Object.keys(now).forEach(function (name) {
    var a = now[name];
    var b = before.routes[name] || { total: 0, errors: 0, buckets: Object.create(null) };
    var requests = a.total - b.total;
    var p99 = quantile(0.99, a.buckets, b.buckets);
    live[name] = { rate: dt > 0 ? requests / dt : 0, ratio: requests > 0 ? (a.errors - b.errors) / requests : null, p99: p99 !== null ? p99 : a.p99 };
  });
  return live;
}

function refresh() {
  var at = Date.now();
  var readyz = fetch('/readyz', { cache: 'no-store' }).then(function (r) { return r.json(); }).catch(function () { return null; });
  Promise.all([readyz, get('/config'), get('/routes'), get('/upstreams'), get('/workers'), get('/metrics', true)])
    .then(function (all) {
      $('login').style.display = 'none';
      $('error').textContent = '';
      var live = liveRoutes(all[5], at);
      $('metrics-note').textContent = all[5] === null ? 'GET /metrics is not served by this gateway: no live numbers' : live === null ? 'live numbers after the next poll' : 'live: change over the last ' + REFRESH_MS / 1000 + ' s';
      renderFacts(all[0], all[1]);
      renderRoutes(all[2], live);
      renderUpstreams(all[3]);
      renderWorkers(all[4]);
    })
    .catch(function (err) {
      if (err && err.unauthorized) {
        $('login').style.display = 'block';
        return;
      }
      $('error').textContent = String(err && err.message ? err.message : err);
    });
}

$('login').addEventListener('submit', function (ev) {
  ev.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $('token').value.trim());
  $('token').value = '';
  previous = null;
  refresh();
});
$('forget').addEventListener('click', function () {
  sessionStorage.removeItem(TOKEN_KEY);
  refresh();
});
refresh();
setInterval(refresh, REFRESH_MS);
`;

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>sluice dashboard</title>
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>sluice</h1>
  <div class="facts">
    <span>status <b id="ready">…</b></span>
    <span>config generation <b id="generation">…</b></span>
    <span>last reload <b id="reload">…</b></span>
    <span>updated <b id="updated">…</b></span>
  </div>
  <button id="forget" type="button" title="Remove the admin token from this tab">forget token</button>
</header>
<main>
  <form id="login">
    <p>This admin API needs its token (admin.token). It is kept in this tab only (sessionStorage) and sent as a Bearer token.</p>
    <input id="token" type="password" autocomplete="off" placeholder="admin token" aria-label="admin token"> <button type="submit">use token</button>
  </form>
  <div id="error" role="alert"></div>
  <section>
    <h2>Routes <small>in match order · <span id="metrics-note"></span></small></h2>
    <table><thead><tr><th class="num">#</th><th>route</th><th>match</th><th>upstream</th><th>stages</th><th class="num">req/s</th><th class="num">5xx</th><th class="num">p99</th></tr></thead>
    <tbody id="routes-body"></tbody></table>
  </section>
  <section>
    <h2>Upstreams</h2>
    <table><thead><tr><th>upstream</th><th>state</th><th>circuit</th><th class="num">in flight</th><th>balance</th><th>endpoints</th></tr></thead>
    <tbody id="upstreams-body"></tbody></table>
  </section>
  <section>
    <h2>Workers</h2>
    <table><thead><tr><th class="num">worker</th><th>alive</th><th class="num">generation</th><th class="num">restarts</th><th class="num">in flight</th><th class="num">loop delay p99</th><th class="num">heap</th></tr></thead>
    <tbody id="workers-body"></tbody></table>
  </section>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;

const PAGE_BYTES = Buffer.from(PAGE);
