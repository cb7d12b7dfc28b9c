import { api } from "../js/api.js";
import { onMe } from "../js/chrome.js";
import { pager } from "../js/pager.js";
import { exportWith } from "../js/exports.js";
import { enterpriseSign } from "../js/signing.js";
import { escape, formatTime, showError, toast } from "../js/ui.js";

let view = new URLSearchParams(location.search).get("view") || "all", page = 1, items = [], asked = 0;
const picked = new Set();

async function counts() {
  const r = await api("GET", "/api/v1/contracts/counts");
  if (!r.ok) return;
  ["all", "awaiting_others", "completed"].forEach(function (k) { document.getElementById("n-" + k).textContent = r.data[k]; });
  const n = document.getElementById("n-awaiting_me"); n.textContent = r.data.awaiting_me; n.hidden = !r.data.awaiting_me;
}

function row(c) {
  const parties = c.parties.map(function (p) {
    return escape(p.name) + ' <span class="badge' + (p.status === "signed" ? " ok" : p.status === "declined" ? " bad" : "") + '">' + p.status_label + "</span>";
  }).join("<br>");
  return "<tr><td>" + (c.awaiting_me ? '<input type="checkbox" data-pick="' + c.id + '"' + (picked.has(c.id) ? " checked" : "") + ">" : "") +
    "</td><td>" + escape(c.name) + "</td><td>" + escape(c.worker_name) + '<br><span class="muted">' + escape(c.worker_phone_masked) +
    "</span></td><td>" + parties + (c.signing_order !== "parallel" ? '<br><span class="muted text-12">' + escape(c.signing_order_label) + "</span>" : "") + '</td><td class="hide-sm">' + formatTime(c.launched_at) + "</td><td>" +
    (c.awaiting_me ? '<span class="badge warn">待我签署</span>' : '<span class="badge">' + c.status_label + "</span>") +
    '</td><td><a href="/dashboard/contracts/' + c.id + '">查看</a></td></tr>';
}

async function load() {
  document.querySelectorAll("[data-view]").forEach(function (b) { b.classList.toggle("active", b.dataset.view === view); });
  const q = document.getElementById("q").value.trim();
  const mine = ++asked;
  const query = "view=" + view + (q ? "&q=" + encodeURIComponent(q) : "");
  exportWith(query);
  const r = await api("GET", "/api/v1/contracts?" + query + "&page=" + page + "&per_page=20");
  if (mine !== asked) return;  // a newer tab, page or search was asked for meanwhile
  if (!r.ok) { showError(null, r.data); return; }
  items = r.data.items;
  document.getElementById("rows").innerHTML = items.map(row).join("") || '<tr><td colspan="7" class="muted">暂无合同</td></tr>';
  document.querySelectorAll("[data-pick]").forEach(function (box) {
    box.addEventListener("change", function () { if (box.checked) picked.add(box.dataset.pick); else picked.delete(box.dataset.pick); sync(); });
  });
  pager(document.getElementById("pager"), r.data, page, "份", function (p) { page = p; load(); });
}

function sync() {
  document.getElementById("picked").textContent = picked.size;
  document.getElementById("batch-sign").hidden = picked.size === 0;
}

document.getElementById("all-box").addEventListener("change", function (e) {
  items.filter(function (c) { return c.awaiting_me; }).forEach(function (c) { if (e.target.checked) picked.add(c.id); else picked.delete(c.id); });
  load(); sync();
});
document.querySelectorAll("[data-view]").forEach(function (b) {
  b.addEventListener("click", function () { view = b.dataset.view; page = 1; history.replaceState(null, "", "?view=" + view); load(); });
});
let timer = null;
document.getElementById("q").addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(function () { page = 1; load(); }, 300); });
document.getElementById("batch-sign").addEventListener("click", function () {
  enterpriseSign(Array.from(picked), function (result) {
    picked.clear(); sync(); counts(); load();
    toast("已签署 " + result.signed.length + " 份" + (result.failed.length ? "，失败 " + result.failed.length + " 份" : ""), result.failed.length > 0);
  });
});
onMe(function () { counts(); load(); });
