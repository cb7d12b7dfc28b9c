import { api } from "../js/api.js";
import { showBadges } from "../js/badges.js";
import { onMe } from "../js/chrome.js";
import { ENTERPRISE_STATUS } from "../js/labels.js";
import { escape } from "../js/ui.js";

/* 认证 → 印章 → 模板 → 邀请 → 发起, ticked by the server from what has been done; gone once all are. */
async function checklist() {
  const r = await api("GET", "/api/v1/setup-progress");
  const box = document.getElementById("checklist");
  box.dataset.state = !r.ok ? "unknown" : r.data.done === r.data.total ? "done" : "open";
  if (box.dataset.state !== "open") { box.hidden = true; return; }
  document.getElementById("checklist-count").textContent = "已完成 " + r.data.done + "/" + r.data.total;
  let next = true;
  document.getElementById("checklist-steps").innerHTML = r.data.steps.map(function (s, i) {
    const first = !s.done && next;
    if (first) next = false;
    return '<li data-step="' + s.key + '" class="' + (s.done ? "done" : "") + '"><span class="mark" aria-hidden="true">' + (s.done ? "✓" : i + 1) +
      "</span><span><b>" + escape(s.title) + "</b>" + (s.done ? ' <span class="badge ok">已完成</span>' : "") +
      "<p>" + escape(s.hint) + "</p>" + (s.done ? "" : '<a href="' + escape(s.href) + '">' + (first ? "去完成 ›" : "前往 ›") + "</a>") + "</span></li>";
  }).join("");
  box.hidden = false;
}

onMe(function (me) {
  document.getElementById("greeting").textContent = me.enterprise.name;
  const status = me.enterprise.verification_status;
  const banner = document.getElementById("verify-banner");
  const verifyEntry = document.querySelector('[data-entry="企业实名认证"]');
  if (status !== "verified" && verifyEntry) {
    banner.innerHTML = "企业尚未完成实名认证（" + (ENTERPRISE_STATUS[status] || status) +
      "），认证后才能发起和签署合同。<a href=\"" + verifyEntry.getAttribute("href") + "\">立即认证</a>";
    banner.hidden = false;
  }
  showBadges();
  checklist();
});
