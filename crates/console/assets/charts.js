// Haechi console charts: small SVG charts drawn with the DOM (no library, nothing
// fetched). Every chart scales to its container's width and carries <title> tooltips,
// so a wall screen reads it from afar and an analyst can hover for exact figures.
'use strict';

const Charts = (() => {
  const NS = 'http://www.w3.org/2000/svg';

  function svg(tag, attrs, children) {
    const el = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
    for (const c of children || []) if (c) el.appendChild(c);
    return el;
  }

  function text(x, y, s, attrs) {
    const t = svg('text', Object.assign({ x, y }, attrs || {}));
    t.textContent = s;
    return t;
  }

  function titled(el, s) {
    const t = svg('title');
    t.textContent = s;
    el.appendChild(t);
    return el;
  }

  // A rounded maximum for an axis: 1, 2 or 5 times a power of ten.
  function niceMax(v) {
    if (v <= 0) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
    return 10 * p;
  }

  function shortTime(iso, spanHours) {
    const d = new Date(iso);
    const hh = String(d.getHours()).padStart(2, '0');
    const mm = String(d.getMinutes()).padStart(2, '0');
    if (spanHours > 48) return `${d.getMonth() + 1}/${d.getDate()} ${hh}h`;
    return `${hh}:${mm}`;
  }

  function frame(width, height, cls) {
    return svg('svg', {
      viewBox: `0 0 ${width} ${height}`,
      class: 'chart ' + (cls || ''),
      role: 'img',
      preserveAspectRatio: 'none',
    });
  }

  function yAxis(root, max, x0, top, h, width) {
    for (const f of [0, 0.5, 1]) {
      const y = top + h - f * h;
      root.appendChild(svg('line', { x1: x0, x2: width, y1: y, y2: y, class: 'grid' }));
      root.appendChild(text(x0 - 6, y + 4, formatCount(max * f), { class: 'axis', 'text-anchor': 'end' }));
    }
  }

  function formatCount(n) {
    if (n >= 1e6) return (n / 1e6).toFixed(n % 1e6 ? 1 : 0) + 'M';
    if (n >= 1e3) return (n / 1e3).toFixed(n % 1e3 ? 1 : 0) + 'k';
    return String(Math.round(n * 100) / 100);
  }

  // Stacked bars over time: `starts` are ISO times, `series` [{name, cls, values}].
  function stackedBars(starts, series, opts) {
    const o = Object.assign({ width: 900, height: 240, spanHours: 24 }, opts || {});
    const left = 48, top = 12, bottom = 28;
    const h = o.height - top - bottom, w = o.width - left - 8;
    const totals = starts.map((_, i) => series.reduce((s, x) => s + (x.values[i] || 0), 0));
    const max = niceMax(Math.max(0, ...totals));
    const root = frame(o.width, o.height, 'stacked');
    yAxis(root, max, left, top, h, o.width);
    const bw = w / Math.max(1, starts.length);
    starts.forEach((start, i) => {
      let y = top + h;
      for (const s of series) {
        const v = s.values[i] || 0;
        if (!v) continue;
        const bh = (v / max) * h;
        y -= bh;
        root.appendChild(titled(
          svg('rect', { x: left + i * bw + 1, y, width: Math.max(1, bw - 2), height: bh, class: 'bar ' + s.cls }),
          `${shortTime(start, o.spanHours)} — ${s.name}: ${v}`));
      }
    });
    const step = Math.max(1, Math.ceil(starts.length / 8));
    for (let i = 0; i < starts.length; i += step) {
      root.appendChild(text(left + i * bw + bw / 2, o.height - 8, shortTime(starts[i], o.spanHours), { class: 'axis', 'text-anchor': 'middle' }));
    }
    return root;
  }

  // One bar per bucket (a search histogram): `buckets` [{start, count}].
  function histogram(buckets, opts) {
    return stackedBars(
      buckets.map(b => b.start),
      [{ name: 'events', cls: 'hist', values: buckets.map(b => b.count) }],
      opts);
  }

  // Lines over time: `lines` [{name, points: [{t, v}]}], values 0..maxY.
  function lines(lines, opts) {
    const o = Object.assign({ width: 900, height: 240, maxY: 100, spanHours: 24 }, opts || {});
    const left = 48, top = 12, bottom = 28, right = 130;
    const h = o.height - top - bottom, w = o.width - left - right;
    const all = lines.flatMap(l => l.points.map(p => new Date(p.t).getTime()));
    const root = frame(o.width, o.height, 'lines');
    yAxis(root, o.maxY, left, top, h, o.width - right);
    if (!all.length) {
      root.appendChild(text(left + w / 2, top + h / 2, 'no risk figures yet', { class: 'empty', 'text-anchor': 'middle' }));
      return root;
    }
    const t0 = Math.min(...all), t1 = Math.max(...all, t0 + 1);
    const x = t => left + ((new Date(t).getTime() - t0) / (t1 - t0)) * w;
    const y = v => top + h - (Math.min(v, o.maxY) / o.maxY) * h;
    lines.forEach((l, k) => {
      if (!l.points.length) return;
      const d = l.points.map((p, i) => `${i ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ');
      root.appendChild(titled(svg('path', { d, class: `line c${k % 8}` }), l.name));
      const last = l.points[l.points.length - 1];
      root.appendChild(titled(svg('circle', { cx: x(last.t), cy: y(last.v), r: 3.5, class: `dot c${k % 8}` }), `${l.name}: ${last.v.toFixed(1)}`));
      root.appendChild(text(o.width - right + 8, top + 14 + k * 16, `${l.name} ${last.v.toFixed(0)}`, { class: `legend c${k % 8}` }));
    });
    root.appendChild(text(left, o.height - 8, shortTime(new Date(t0).toISOString(), o.spanHours), { class: 'axis' }));
    root.appendChild(text(left + w, o.height - 8, shortTime(new Date(t1).toISOString(), o.spanHours), { class: 'axis', 'text-anchor': 'end' }));
    return root;
  }

  // Horizontal bars: `items` [{label, value, cls, note}].
  function hbars(items, opts) {
    const o = Object.assign({ width: 620, row: 26, label: 300 }, opts || {});
    const height = Math.max(1, items.length) * o.row + 6;
    const root = frame(o.width, height, 'hbars');
    if (!items.length) {
      root.appendChild(text(o.width / 2, 16, 'none in this window', { class: 'empty', 'text-anchor': 'middle' }));
      return root;
    }
    const max = Math.max(...items.map(i => i.value), 1);
    const w = o.width - o.label - 50;
    items.forEach((it, i) => {
      const y = i * o.row + 4;
      const label = it.label.length > 38 ? it.label.slice(0, 37) + '…' : it.label;
      root.appendChild(titled(text(0, y + o.row * 0.65, label, { class: 'label' }), it.label + (it.note ? ` (${it.note})` : '')));
      root.appendChild(titled(
        svg('rect', { x: o.label, y: y + 3, width: Math.max(2, (it.value / max) * w), height: o.row - 8, class: 'bar ' + (it.cls || '') }),
        `${it.label}: ${it.value}${it.note ? ' — ' + it.note : ''}`));
      root.appendChild(text(o.label + Math.max(2, (it.value / max) * w) + 6, y + o.row * 0.65, String(it.value), { class: 'value' }));
    });
    return root;
  }

  // A heat map: rows × cols with counts; `cell(r, c)` gives the count.
  function heatmap(rows, cols, cell, opts) {
    const o = Object.assign({ width: 900, row: 26, label: 130, colLabel: 110, right: 40 }, opts || {});
    const height = o.colLabel + Math.max(1, rows.length) * o.row + 4;
    const root = frame(o.width, height, 'heat');
    const cw = (o.width - o.label - o.right) / cols.length;
    let max = 1;
    for (const r of rows) for (const c of cols) max = Math.max(max, cell(r, c));
    cols.forEach((c, j) => {
      const x = o.label + j * cw + cw / 2, y = o.colLabel - 6;
      root.appendChild(text(x, y, c.replace(/_/g, ' '), { class: 'axis', transform: `rotate(-40 ${x} ${y})` }));
    });
    rows.forEach((r, i) => {
      const y = o.colLabel + i * o.row;
      root.appendChild(text(0, y + o.row * 0.65, r, { class: 'label' }));
      cols.forEach((c, j) => {
        const v = cell(r, c);
        const level = v ? 1 + Math.min(4, Math.floor((v / max) * 4.999)) : 0;
        root.appendChild(titled(
          svg('rect', { x: o.label + j * cw + 1, y: y + 1, width: cw - 2, height: o.row - 2, class: 'heat' + level, rx: 3 }),
          `${r} — ${c.replace(/_/g, ' ')}: ${v} alert${v === 1 ? '' : 's'}`));
        if (v) root.appendChild(text(o.label + j * cw + cw / 2, y + o.row * 0.68, String(v), { class: 'cell', 'text-anchor': 'middle' }));
      });
    });
    if (!rows.length) root.appendChild(text(o.width / 2, o.colLabel + 16, 'no tactics tagged in this window', { class: 'empty', 'text-anchor': 'middle' }));
    return root;
  }

  return { stackedBars, histogram, lines, hbars, heatmap, formatCount };
})();
