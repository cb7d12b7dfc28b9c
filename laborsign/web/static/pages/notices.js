import { api } from "../js/api.js";
import { showUnread } from "../js/chrome.js";
import { NOTICE_KINDS } from "../js/labels.js";
import { pager } from "../js/pager.js";
import { escape, formatTime, showError, toast } from "../js/ui.js";

let page = 1;
const tbody = document.getElementById("notices");
const smsBox = document.getElementById("notify-by-sms");

function row(n) {
  const link = n.contract_id ? ' <a href="/dashboard/contracts/' + encodeURIComponent(n.contract_id) + '">查看合同</a>' : "";
  const state = n.read ? '<span class="muted">已读</span>'
    : '<button type="button" class="link" data-read="' + escape(n.id) + '">标为已读</button>';
  return '<tr data-id="' + escape(n.id) + '" class="' + (n.read ? "read" : "unread") + '"><td>' +
    (n.read ? "" : '<span class="badge bad">未读</span> ') + escape(NOTICE_KINDS[n.kind] || n.kind) +
    "</td><td>" + escape(n.text) + link + '</td><td class="hide-sm">' + formatTime(n.created_at) +
    "</td><td>" + state + "</td></tr>";
}

function counted(unread) {
  document.getElementById("unread-line").textContent = unread ? "未读 " + unread + " 条" : "没有未读通知";
  document.getElementById("read-all").hidden = unread === 0;
  showUnread(unread);
}

async function load() {
  const r = await api("GET", "/api/v1/notices?page=" + page + "&per_page=20");
  if (!r.ok) { showError(null, r.data); return; }
  tbody.innerHTML = r.data.items.length ? r.data.items.map(row).join("")
    : '<tr><td colspan="4" class="muted">暂无通知</td></tr>';
  counted(r.data.unread);
  pager(document.getElementById("pager"), r.data, page, "条", function (p) { page = p; load(); });
}

async function markRead(body) {
  const r = await api("POST", "/api/v1/notices/read", body);
  if (!r.ok) { showError(null, r.data); return; }
  await load();
}

tbody.addEventListener("click", function (e) {
  const id = e.target.dataset && e.target.dataset.read;
  if (id) markRead({ ids: [id] });
});
document.getElementById("read-all").addEventListener("click", function () { markRead({ all: true }); });

smsBox.addEventListener("change", async function () {
  const r = await api("PUT", "/api/v1/notices/settings", { notify_by_sms: smsBox.checked });
  if (!r.ok) { showError(null, r.data); smsBox.checked = !smsBox.checked; return; }
  toast(r.data.notify_by_sms ? "已开启短信通知" : "已关闭短信通知");
});

(async function () {
  const r = await api("GET", "/api/v1/notices/settings");
  if (r.ok) smsBox.checked = r.data.notify_by_sms;
  load();
})();
