/* The home page's work centre: the summary counts as links to their lists, and two bar charts
 * drawn as SVG elements (no inline script or style: sizes are SVG attributes). */
import { api } from "../js/api.js";
import { CONTRACT_STATUS } from "../js/labels.js";

const SVG = "http://www.w3.org/2000/svg";
const centre = document.getElementById("work-centre");

function el(name, attrs, text) {
  const node = document.createElementNS(SVG, name);
  Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
  if (text !== undefined) node.textContent = text;
  return node;
}

/* Horizontal bars, one row per [label, count]. */
function barsAcross(svg, rows) {
  const rowH = 24, labelW = 84, barW = 200, max = Math.max(1, ...rows.map(function (r) { return r[1]; }));
  svg.setAttribute("viewBox", "0 0 " + (labelW + barW + 40) + " " + rows.length * rowH);
  rows.forEach(function (r, i) {
    const y = i * rowH, w = Math.round((r[1] / max) * barW);
    const g = el("a", { "data-bar": r[2] || r[0], href: "/dashboard/contracts?view=all&status=" + encodeURIComponent(r[2] || r[0]) });
    g.appendChild(el("title", {}, r[0] + "：" + r[1]));
    g.appendChild(el("text", { x: 0, y: y + 16, class: "label" }, r[0]));
    g.appendChild(el("rect", { x: labelW, y: y + 4, width: Math.max(w, r[1] ? 2 : 0), height: rowH - 8, rx: 3 }));
    g.appendChild(el("text", { x: labelW + w + 6, y: y + 16, class: "value" }, String(r[1])));
    svg.appendChild(g);
  });
}

/* A week's bar opens the completed contracts whose term ends in that week (its 7 days). */
function weekList(start) {
  const end = new Date(Date.parse(start + "T00:00:00Z") + 6 * 86400000).toISOString().slice(0, 10);
  return "/dashboard/contracts?view=completed&term_end_from=" + start + "&term_end_to=" + end;
}

/* Vertical bars, one column per week; each bar links to its list, as each status bar does. */
function barsUp(svg, weeks) {
  const colW = 22, h = 100, base = h + 4, max = Math.max(1, ...weeks.map(function (w) { return w.count; }));
  svg.setAttribute("viewBox", "0 0 " + weeks.length * colW + " " + (base + 20));
  weeks.forEach(function (w, i) {
    const bh = Math.round((w.count / max) * h), x = i * colW;
    const g = el("a", { "data-week": w.week_start, href: weekList(w.week_start) });
    g.appendChild(el("title", {}, w.week_start + " 起一周：" + w.count + " 份"));
    g.appendChild(el("rect", { x: x + 3, y: base - bh, width: colW - 6, height: bh, rx: 2 }));
    if (w.count) g.appendChild(el("text", { x: x + colW / 2, y: base - bh - 3, class: "value mid" }, String(w.count)));
    if (i % 4 === 0) g.appendChild(el("text", { x: x + 2, y: base + 16, class: "label" }, w.week_start.slice(5)));
    svg.appendChild(g);
  });
}

async function load() {
  const r = await api("GET", "/api/v1/dashboard/summary");
  if (!r.ok) return;
  const s = r.data;
  let shown = 0;
  document.querySelectorAll("[data-stat]").forEach(function (a) {
    const n = s[a.dataset.stat];
    if (n === null || n === undefined) return;
    a.querySelector("b").textContent = n;
    a.classList.toggle("zero", n === 0);
    a.hidden = false;
    shown++;
  });
  if (s.active_employees !== null) {
    document.getElementById("covered-line").textContent = s.covered_share === null ? "暂无在职员工"
      : "持有效合同 " + s.covered_employees + " 人（" + Math.round(s.covered_share * 1000) / 10 + "%）";
  }
  if (s.by_status) {
    const box = document.getElementById("chart-status");
    barsAcross(box.querySelector("svg"), Object.keys(s.by_status).map(function (k) {
      return [CONTRACT_STATUS[k] || k, s.by_status[k], k];
    }));
    box.hidden = false;
  }
  if (s.expiries_by_week) {
    const box = document.getElementById("chart-expiries");
    barsUp(box.querySelector("svg"), s.expiries_by_week);
    box.hidden = false;
  }
  centre.hidden = shown === 0;
}

load();
