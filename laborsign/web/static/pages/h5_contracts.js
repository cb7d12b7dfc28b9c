import { api } from "../js/api.js";
import { pager } from "../js/pager.js";
import { escape, formatTime, showError } from "../js/ui.js";

const params = new URLSearchParams(location.search);
let view = params.get("view") || "all", page = 1;
async function counts() {
  const r = await api("GET", "/api/v1/me/contracts/counts");
  if (r.ok && r.data.awaiting_me) { const el = document.getElementById("n-awaiting_me"); el.textContent = r.data.awaiting_me; el.hidden = false; }
}
async function load() {
  document.querySelectorAll("[data-view]").forEach(function (b) { b.classList.toggle("active", b.dataset.view === view); });
  const r = await api("GET", "/api/v1/me/contracts?view=" + view + "&page=" + page + "&per_page=20");
  if (!r.ok) { showError(null, r.data); return; }
  document.getElementById("list").innerHTML = r.data.items.map(function (c) {
    const who = c.parties.map(function (p) { return escape(p.name) + "（" + p.status_label + "）"; }).join("、");
    return '<a class="list-item" href="/h5/contracts/' + c.id + '"><span><b>' + escape(c.name) + "</b><br>" +
      '<span class="muted text-13">' + escape(c.enterprise_name) + ' · <span class="when">发起于 ' + formatTime(c.launched_at) + "</span>" +
      "<br>签署人：" + who + "</span></span><span>" +
      (c.awaiting_me ? '<span class="badge warn">待我签</span>' : '<span class="badge' + (c.status === "completed" ? " ok" : "") + '">' + c.status_label + "</span>") +
      " ›</span></a>";
  }).join("") || '<div class="card muted">暂无合同</div>';
  pager(document.getElementById("pager"), r.data, page, null, function (p) { page = p; load(); });
}
document.querySelectorAll("[data-view]").forEach(function (b) {
  b.addEventListener("click", function () { view = b.dataset.view; page = 1; history.replaceState(null, "", "?view=" + view); load(); });
});
counts(); load();
