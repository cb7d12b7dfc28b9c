import { api } from "../js/api.js";
import { OUTBOX_STATUS, WEBHOOK_EVENTS } from "../js/labels.js";
import { pager } from "../js/pager.js";
import { escape, formatTime, modal, showError, toast } from "../js/ui.js";

let endpoints = [];
let current = null;
let page = 1;

function eventNames(codes) {
  return codes.map(function (c) { return WEBHOOK_EVENTS[c] || c; }).join("、");
}

async function loadEndpoints() {
  const r = await api("GET", "/api/v1/webhook-endpoints");
  if (!r.ok) { showError(null, r.data); return; }
  endpoints = r.data.items;
  document.getElementById("endpoints").innerHTML = endpoints.length ? endpoints.map(function (e) {
    return '<tr><td class="break-all">' + escape(e.url) + '</td><td class="hide-sm">' + escape(eventNames(e.events)) +
      '</td><td class="hide-sm">' + formatTime(e.created_at) + '</td><td>' +
      '<button type="button" data-show="' + e.id + '">投递记录</button> ' +
      '<button type="button" data-delete="' + e.id + '">删除</button></td></tr>';
  }).join("") : '<tr><td colspan="4" class="muted">尚未登记接收地址</td></tr>';
  if (current && !endpoints.some(function (e) { return e.id === current; })) {
    current = null;
    document.getElementById("deliveries-card").hidden = true;
  }
}

async function loadDeliveries() {
  if (!current) return;
  const r = await api("GET", "/api/v1/webhook-endpoints/" + current + "/deliveries?page=" + page + "&per_page=20");
  if (!r.ok) { showError(null, r.data); return; }
  const shown = endpoints.find(function (e) { return e.id === current; });
  document.getElementById("deliveries-of").textContent = shown ? shown.url : "";
  document.getElementById("deliveries-card").hidden = false;
  const items = r.data.items;
  document.getElementById("deliveries").innerHTML = items.length ? items.map(function (d) {
    const last = d.history.length ? d.history[d.history.length - 1] : null;
    const result = last ? (last.status_code ? "HTTP " + last.status_code : "") + (last.error ? " " + last.error : "") : "";
    return '<tr data-delivery="' + d.id + '"><td>' + escape(WEBHOOK_EVENTS[d.type] || d.type) +
      '</td><td class="hide-sm break-all">' + escape(d.event_id) + '</td><td data-status="' + escape(d.status) + '">' +
      escape(OUTBOX_STATUS[d.status] || d.status) + '</td><td class="hide-sm">' + d.attempts +
      '</td><td class="hide-sm break-all">' + escape(result) + "</td><td>" + formatTime(d.sent_at || d.created_at) +
      "</td><td>" + (d.status === "dead" ? '<button type="button" class="primary" data-redeliver="' + d.id + '">重新投递</button>' : "") +
      "</td></tr>";
  }).join("") : '<tr><td colspan="7" class="muted">还没有投递</td></tr>';
  pager(document.getElementById("pager"), r.data, page, "条", function (p) { page = p; loadDeliveries(); });
}

document.getElementById("endpoints").addEventListener("click", async function (ev) {
  const show = ev.target.closest("[data-show]");
  const del = ev.target.closest("[data-delete]");
  if (show) { current = show.dataset.show; page = 1; loadDeliveries(); }
  if (del) {
    if (!confirm("删除后不再向该地址投递，其投递记录一并删除。确定删除？")) return;
    const r = await api("DELETE", "/api/v1/webhook-endpoints/" + del.dataset.delete);
    if (!r.ok) { showError(null, r.data); return; }
    toast("已删除");
    loadEndpoints();
  }
});

document.getElementById("deliveries").addEventListener("click", async function (ev) {
  const button = ev.target.closest("[data-redeliver]");
  if (!button) return;
  const r = await api("POST", "/api/v1/webhook-endpoints/" + current + "/deliveries/" + button.dataset.redeliver + "/redeliver", {});
  if (!r.ok) { showError(null, r.data); return; }
  toast("已重新加入投递队列");
  loadDeliveries();
});

document.getElementById("new-endpoint").addEventListener("click", function () {
  const back = modal('<h3>登记接收地址</h3><form novalidate>' +
    '<label>接收地址（URL）</label><input name="url" type="url" maxlength="500" placeholder="https://oa.example.com/laborsign/events">' +
    '<div class="field-error" data-error-for="url"></div><label>订阅的事件</label>' +
    Object.keys(WEBHOOK_EVENTS).map(function (code) {
      return '<label class="inline"><input type="checkbox" data-event="' + code + '" checked> ' + escape(WEBHOOK_EVENTS[code]) + "</label> ";
    }).join("") + '<div class="field-error" data-error-for="events"></div>' +
    '<div class="row mt-16"><span class="spacer"></span><button type="button" data-close>取消</button><button class="primary">登记</button></div></form>');
  const form = back.querySelector("form");
  form.addEventListener("submit", async function (ev) {
    ev.preventDefault();
    const events = Array.from(form.querySelectorAll("[data-event]:checked")).map(function (c) { return c.dataset.event; });
    const r = await api("POST", "/api/v1/webhook-endpoints", { url: form.url.value.trim(), events: events });
    if (!r.ok) { showError(form, r.data); return; }
    back.remove();
    modal('<h3>已登记</h3><p>签名密钥只显示这一次，请立即保存到集成系统中：</p><p class="break-all" id="secret">' + escape(r.data.secret) +
      '</p><div class="row mt-16"><span class="spacer"></span><button type="button" class="primary" data-close>我已保存</button></div>');
    loadEndpoints();
  });
});

loadEndpoints();
