import { api } from "../js/api.js";
import { CHANNELS } from "../js/labels.js";
import { pager } from "../js/pager.js";
import { escape, formatTime, showError, toast } from "../js/ui.js";

let page = 1;

async function load() {
  const r = await api("GET", "/api/v1/chat/dead-letters?page=" + page + "&per_page=20");
  if (!r.ok) { showError(null, r.data); return; }
  const items = r.data.items;
  document.getElementById("retry-all").hidden = items.length === 0;
  document.getElementById("letters").innerHTML = items.length ? items.map(function (d) {
    return "<tr><td>" + escape(CHANNELS[d.channel] || d.channel) + "</td><td>" + escape(d.recipient) +
      "</td><td>" + escape(d.text) + '</td><td class="hide-sm">' + d.attempts + '</td><td class="hide-sm">' +
      escape(d.error_summary) + (d.last_error ? '<details class="raw"><summary>原始信息</summary><code class="break-all">' + escape(d.last_error) + "</code></details>" : "") + "</td><td>" + formatTime(d.died_at) + "</td></tr>";
  }).join("") : '<tr><td colspan="6" class="muted">没有发送失败的消息</td></tr>';
  pager(document.getElementById("pager"), r.data, page, "条", function (p) { page = p; load(); });
}

document.getElementById("retry-all").addEventListener("click", async function () {
  const r = await api("POST", "/api/v1/chat/dead-letters/retry", {});
  if (!r.ok) { showError(null, r.data); return; }
  toast("已重新加入发送队列：" + r.data.retried + " 条");
  load();
});
load();
