/**
 * The dashboard: connects to /ws, keeps the server's connection list and a history of its
 * counters, and renders a live table and a throughput / WANT chart. No framework.
 */
import { drawChart, type Panel } from './chart.js';

interface Conn {
  id: number;
  transport: 'tls' | 'plain';
  remoteAddress: string | null;
  remotePort: number | null;
  state: string;
  waitingFor: 'read' | 'write' | 'nothing';
  protocol: string | null;
  cipher: string | null;
  alpn: string | null;
  sni: string | null;
  queuedBytes: number;
  counters: { bytesIn?: number; bytesOut?: number };
  requests: number;
  current: string | null;
  ageMs: number;
}

interface Stats {
  uptimeMs: number;
  state: string;
  connections: { open: { tls: number; plain: number; total: number }; total: { tls: number; plain: number; total: number } };
  handshakes: { ok: number; failed: number; failedByReason: Record<string, number> };
  bytes: { in: number; out: number };
  wantRead: number;
  wantWrite: number;
  retries: number;
  queuedBytes: number;
  plaintextOnHttpsPort: number;
  http: { requests: number };
  websockets: { open: number };
}

type Message =
  | { type: 'hello'; you: number | null; stats: Stats; connections: Conn[] }
  | { type: 'stats'; stats: Stats; connections: Conn[] }
  | { type: 'connection'; event: 'open' | 'state'; connection: Conn }
  | { type: 'connection'; event: 'close'; connection: { id: number } }
  | { type: 'shutdown'; drainMs: number };

const HISTORY = 120;
const conns = new Map<number, Conn>();
let self: number | null = null;
let last: { t: number; s: Stats } | null = null;
const hist = { in: [] as number[], out: [] as number[], wr: [] as number[], ww: [] as number[], retries: [] as number[] };

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const statusEl = $('status');
const uptimeEl = $('uptime');

function bytes(n: number): string {
  if (n < 1024) return `${Math.round(n)} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024, u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

function count(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e4 ? `${(n / 1e3).toFixed(1)}k` : String(Math.round(n));
}

function age(ms: number): string {
  const s = Math.floor(ms / 1000);
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, '0')}m`;
}

function cell(text: string, cls?: string): HTMLTableCellElement {
  const td = document.createElement('td');
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

let renderQueued = false;
function scheduleRender(): void {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => { renderQueued = false; renderTable(); });
}

function renderTable(): void {
  const body = $('rows');
  const rows = [...conns.values()].sort((a, b) => a.id - b.id);
  const frag = document.createDocumentFragment();
  for (const c of rows) {
    const tr = document.createElement('tr');
    tr.dataset.id = String(c.id);
    if (c.id === self) tr.className = 'self';
    const tag = document.createElement('td');
    const span = document.createElement('span');
    span.className = `tag ${c.transport}`;
    span.textContent = c.transport === 'tls' ? 'TLS' : 'plain';
    tag.append(span);
    const remote = c.remoteAddress ? `${c.remoteAddress.includes(':') ? `[${c.remoteAddress}]` : c.remoteAddress}:${c.remotePort ?? ''}` : '—';
    tr.append(
      cell(String(c.id) + (c.id === self ? ' (this page)' : '')),
      tag,
      cell(remote),
      cell(c.current && c.state === 'active' ? `${c.state}: ${c.current}` : c.state, 'state'),
      cell(c.waitingFor, `waiting wait-${c.waitingFor}`),
      cell(c.protocol ?? '—'),
      cell(c.cipher ?? '—'),
      cell(c.alpn ?? '—'),
      cell(c.sni ?? '—'),
      cell(bytes(c.queuedBytes)),
      cell(`${bytes(c.counters.bytesIn ?? 0)} / ${bytes(c.counters.bytesOut ?? 0)}`),
      cell(String(c.requests)),
      cell(age(c.ageMs)),
    );
    frag.append(tr);
  }
  if (rows.length === 0) {
    const tr = document.createElement('tr');
    const td = cell('no connections', 'empty');
    td.colSpan = 13;
    tr.append(td);
    frag.append(tr);
  }
  body.replaceChildren(frag);
  $('count').textContent = `(${rows.length} open)`;
}

function renderTiles(s: Stats): void {
  const tiles: Array<[string, string]> = [
    ['open TLS / plain', `${s.connections.open.tls} / ${s.connections.open.plain}`],
    ['total connections', count(s.connections.total.total)],
    ['handshakes ok', count(s.handshakes.ok)],
    ['handshakes failed', count(s.handshakes.failed)],
    ['bytes in', bytes(s.bytes.in)],
    ['bytes out', bytes(s.bytes.out)],
    ['WANT_READ', count(s.wantRead)],
    ['WANT_WRITE', count(s.wantWrite)],
    ['retries', count(s.retries)],
    ['queued', bytes(s.queuedBytes)],
    ['HTTP requests', count(s.http.requests)],
    ['plaintext on HTTPS port', count(s.plaintextOnHttpsPort)],
  ];
  const box = $('tiles');
  box.replaceChildren(...tiles.map(([k, v]) => {
    const d = document.createElement('div');
    d.className = 'tile';
    const kk = document.createElement('div');
    kk.className = 'k';
    kk.textContent = k;
    const vv = document.createElement('div');
    vv.className = 'v';
    vv.textContent = v;
    d.append(kk, vv);
    return d;
  }));
  uptimeEl.textContent = `up ${age(s.uptimeMs)}${s.state !== 'running' ? ` · ${s.state}` : ''}`;
}

function push(arr: number[], v: number): void {
  arr.push(v);
  if (arr.length > HISTORY) arr.shift();
}

function sample(s: Stats): void {
  const now = performance.now();
  if (last) {
    const dt = Math.max(0.001, (now - last.t) / 1000);
    const p = last.s;
    push(hist.in, Math.max(0, s.bytes.in - p.bytes.in) / dt);
    push(hist.out, Math.max(0, s.bytes.out - p.bytes.out) / dt);
    push(hist.wr, Math.max(0, s.wantRead - p.wantRead) / dt);
    push(hist.ww, Math.max(0, s.wantWrite - p.wantWrite) / dt);
    push(hist.retries, Math.max(0, s.retries - p.retries) / dt);
  }
  last = { t: now, s };
  renderChart();
}

// The series' arrays are the history itself (filled in place), so the panels are made once.
const PANELS: Panel[] = [
  { title: 'throughput (bytes/s)', unit: (v) => `${bytes(v)}/s`, series: [
    { label: 'in', color: '#2563eb', values: hist.in },
    { label: 'out', color: '#16a34a', values: hist.out },
  ] },
  { title: 'WANT results and retries (per s)', unit: (v) => count(v), series: [
    { label: 'WANT_READ', color: '#9333ea', values: hist.wr },
    { label: 'WANT_WRITE', color: '#ea580c', values: hist.ww },
    { label: 'retries', color: '#0891b2', values: hist.retries },
  ] },
];

function renderChart(): void {
  const canvas = $<HTMLCanvasElement>('chart');
  drawChart(canvas, PANELS, HISTORY);
  // The points drawn per series, readable from outside (tests, devtools): a canvas shows no DOM.
  canvas.dataset.samples = String(hist.in.length);
}

function renderLegend(): void {
  const legend = $('legend');
  legend.replaceChildren(...PANELS.flatMap((p) => p.series).map((s) => {
    const span = document.createElement('span');
    const i = document.createElement('i');
    i.style.background = s.color;
    span.append(i, s.label);
    return span;
  }));
}

function replaceAll(list: Conn[]): void {
  conns.clear();
  for (const c of list) conns.set(c.id, c);
  scheduleRender();
}

function onMessage(msg: Message): void {
  switch (msg.type) {
    case 'hello':
    case 'stats':
      if (msg.type === 'hello') {
        self = msg.you;
        last = null;
      }
      replaceAll(msg.connections);
      renderTiles(msg.stats);
      sample(msg.stats);
      break;
    case 'connection':
      if (msg.event === 'close') conns.delete(msg.connection.id);
      else conns.set(msg.connection.id, msg.connection as Conn);
      scheduleRender();
      break;
    case 'shutdown':
      statusEl.textContent = 'server shutting down';
      statusEl.className = 'status down';
      break;
  }
}

let retryMs = 500;
function connect(): void {
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
  ws.onopen = () => {
    retryMs = 500;
    statusEl.textContent = `live (${location.protocol === 'https:' ? 'HTTPS' : 'HTTP'})`;
    statusEl.className = 'status live';
  };
  ws.onmessage = (ev) => {
    if (typeof ev.data !== 'string') return;
    try { onMessage(JSON.parse(ev.data) as Message); } catch { /* ignore malformed */ }
  };
  ws.onclose = (ev) => {
    statusEl.textContent = `disconnected (${ev.code}); retrying`;
    statusEl.className = 'status down';
    self = null;
    setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, 10_000);
  };
}

renderLegend();
renderTable();
renderChart();
window.addEventListener('resize', renderChart);
connect();
