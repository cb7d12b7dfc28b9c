import { api } from "../js/api.js";
import { onMe } from "../js/chrome.js";
import { ALERT_KINDS } from "../js/labels.js";
import { escape, showError } from "../js/ui.js";

function action(a) {
  if (a.kind === "no_written_contract") return '<a href="/dashboard/contracts/new">发起签署</a>';
  if (a.kind === "renewal_due" || a.kind === "open_ended_due") return '<a href="/dashboard/contracts/new?renew=' + encodeURIComponent(a.contract_id || "") + '">续签</a>';
  return a.contract_id ? '<a href="/dashboard/contracts/' + encodeURIComponent(a.contract_id) + '">查看合同</a>' : "";
}

function left(days) {
  return days < 0 ? '<span class="badge">已超过 ' + -days + " 天</span>" : days + " 天";
}

async function load() {
  const kind = document.getElementById("kind").value;
  const r = await api("GET", "/api/v1/alerts" + (kind ? "?kind=" + kind : ""));
  if (!r.ok) { showError(null, r.data); return; }
  document.getElementById("alerts").innerHTML = r.data.items.map(function (a) {
    return '<tr data-alert="' + escape(a.kind) + '"><td>' + escape(ALERT_KINDS[a.kind] || a.kind) + "</td><td>" + escape(a.employee_name) +
      "</td><td>" + escape(a.due_date) + "</td><td>" + left(a.days_left) + "</td><td>" + escape(a.message) +
      '<br><span class="muted">' + escape(a.article) + "</span></td><td>" + action(a) + "</td></tr>";
  }).join("") || '<tr><td colspan="6" class="muted">暂无需要处理的用工期限</td></tr>';
}

const asked = new URLSearchParams(location.search).get("kind");
if (asked && ALERT_KINDS[asked]) document.getElementById("kind").value = asked;
document.getElementById("kind").addEventListener("change", load);
onMe(load);
