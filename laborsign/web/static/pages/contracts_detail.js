import { api } from "../js/api.js";
import { onMe } from "../js/chrome.js";
import { INTENT_METHODS } from "../js/labels.js";
import { chosenIntent, followIntent, intentChoice } from "../js/signing.js";
import { clearErrors, escape, filledValues, formatTime, modal, pageData, showError, toast } from "../js/ui.js";

const ID = pageData().contractId;
let c = null;
let chosenSeal = null;

/* Why the worker's signature was refused (their verified identity is not the roster's). */
function refusal(r) {
  if (!r) return "";
  return '<p class="field-error" id="signer-refusal"><b>劳动者签署被拒绝：</b>' + escape(r.reason) +
    "（实名 " + escape(r.verified_name || "") + " " + escape(r.verified_id_masked || "") +
    "，花名册 " + escape(r.roster_name || "") + " " + escape(r.roster_id_masked || "") + "，" + formatTime(r.at) +
    "）。请核对花名册信息。</p>";
}

/* Under a signing order, whose turn it is while the first party has not signed. */
function waitingFor(contract) {
  if (contract.status !== "signing" || contract.signing_order === "parallel") return "";
  const first = contract.signing_order === "worker_first" ? "worker" : "enterprise";
  const pending = contract.parties.some(function (p) { return p.role === first && p.status === "pending"; });
  return pending ? '<br><span class="muted">待' + (first === "worker" ? "劳动者" : "企业") + "先签署</span>" : "";
}

function info(contract) {
  return refusal(contract.signer_refusal) + "<p><b>劳动者：</b>" + escape(contract.worker_name) + "（" + escape(contract.worker_phone_masked) + "）</p>" +
    "<p><b>企业：</b>" + escape(contract.enterprise_party.name) + "<br>经办人 " + escape(contract.enterprise_party.operator_name) + " " + escape(contract.enterprise_party.operator_phone_masked) + "</p>" +
    contract.parties.map(function (p) {
      return "<p>" + (p.role === "worker" ? "乙方" : "甲方") + "：" + escape(p.name) + ' <span class="badge' + (p.status === "signed" ? " ok" : "") + '">' +
        p.status_label + "</span>" + (p.signed_at ? '<br><span class="muted">' + formatTime(p.signed_at) + "</span>" : "") + "</p>";
    }).join("") +
    '<p><b>签署顺序：</b><span id="signing-order">' + escape(contract.signing_order_label) + "</span>" + waitingFor(contract) + "</p>" +
    "<p><b>发起时间：</b>" + formatTime(contract.launched_at) + (contract.last_reminded_at ? "<br><b>最近催签：</b>" + formatTime(contract.last_reminded_at) : "") +
    (contract.sign_deadline ? "<br><b>签署截止：</b>" + formatTime(contract.sign_deadline) : "") + (contract.ended_reason ? "<br><b>原因：</b>" + escape(contract.ended_reason) : "") + "</p>" +
    '<p class="muted text-12 break-all">原始文件 SHA-256：' + contract.original_sha256 + "<br>当前文件 SHA-256：" + contract.document_sha256 + "</p>";
}

function actions(contract) {
  const out = [];
  out.push('<a class="btn" href="/api/v1/contracts/' + ID + '/document.pdf?download=1">下载合同</a>');
  out.push('<a class="btn" href="/api/v1/contracts/' + ID + '/evidence.pdf">出证报告</a>');
  if (contract.awaiting_me) out.push('<button class="primary" id="sign">签署</button>');
  const workerPending = contract.parties.some(function (p) { return p.role === "worker" && p.status === "pending"; });
  if (contract.status === "signing" && workerPending) out.push('<button id="remind">催签</button>');
  if (contract.status === "signing") out.push('<button id="withdraw">撤回</button>');
  if (contract.status === "withdrawn") out.push('<button id="reinitiate">重新发起</button>');
  if (contract.status === "completed" && contract.source === "template") out.push('<a class="btn" href="/dashboard/contracts/new?renew=' + encodeURIComponent(contract.id) + '">续签</a>');
  return out.join(" ");
}

async function load() {
  const r = await api("GET", "/api/v1/contracts/" + ID);
  if (!r.ok) { showError(null, r.data); document.getElementById("title").textContent = "合同不存在"; return; }
  c = r.data;
  document.getElementById("title").textContent = c.name;
  document.getElementById("status").innerHTML = '<span class="badge">' + c.status_label + "</span>";
  document.getElementById("info").innerHTML = info(c);
  document.getElementById("actions").innerHTML = actions(c);
  wire();
  const own = c.controls.filter(function (x) { return x.filled_by === "enterprise" && ["seal", "sign_date", "signature"].indexOf(x.kind) < 0; });
  document.getElementById("enterprise-fields").innerHTML = c.awaiting_me && own.length ? "<h4>签署前请填写</h4>" + own.map(function (x) {
    return "<label>" + escape(x.label) + (x.required ? " *" : "") + '</label><input name="' + x.key + '" type="' + (x.kind === "date" ? "date" : "text") + '">';
  }).join("") : "";
  const pages = [];
  for (let n = 1; n <= c.pages; n++) pages.push('<div class="pg" data-page="' + n + '"><img class="page" alt="第' + n + '页" src="/api/v1/contracts/' + ID + "/pages/" + n + ".png?scale=1.5&v=" + c.document_sha256.slice(0, 12) + '"></div>');
  document.getElementById("doc").innerHTML = pages.join("");
  if (c.awaiting_me) await sealing();
  const ev = await api("GET", "/api/v1/contracts/" + ID + "/events");
  if (ev.ok) {
    document.getElementById("chain").textContent = ev.data.chain_intact ? "哈希链完整" : "哈希链异常";
    document.getElementById("chain").className = "badge " + (ev.data.chain_intact ? "ok" : "bad");
    document.getElementById("events").innerHTML = ev.data.items.map(function (e) {
      return '<div class="event">' + formatTime(e.at) + " · <b>" + escape(e.label) + "</b> · " +
        escape(e.actor_name) + (e.method ? "（" + escape(INTENT_METHODS[e.method] || e.method) + "）" : "") + '<br><span class="muted">IP ' + escape(e.ip || "-") + "</span></div>";
    }).join("");
  }
}

async function sealing() {
  const seals = await api("GET", "/api/v1/seals");
  const list = seals.ok ? seals.data.items : [];
  document.getElementById("seal-panel").hidden = false;
  document.getElementById("intent-box").innerHTML = intentChoice();
  document.getElementById("seal-list").innerHTML = list.map(function (s) {
    return '<img class="seal-pick" draggable="true" data-seal="' + s.id + '" src="' + s.image + '" alt="' + escape(s.name) + '" title="' + escape(s.name) + '">';
  }).join("") || '<p class="muted">还没有印章，请先到<a href="/dashboard/seals">印章管理</a>生成或上传。</p>';
  let picked = null;
  document.querySelectorAll("[data-seal]").forEach(function (img) {
    img.addEventListener("dragstart", function (e) { e.dataTransfer.setData("text/plain", img.dataset.seal); });
    // Touch screens have no drag and drop: tap a seal, then tap the seal area.
    img.addEventListener("click", function () {
      picked = img.dataset.seal;
      document.querySelectorAll("[data-seal]").forEach(function (x) { x.classList.toggle("picked", x === img); });
    });
  });
  function put(id) {
    const pick = document.querySelector('[data-seal="' + id + '"]');
    if (!pick) return;
    chosenSeal = id;
    document.querySelectorAll(".drop").forEach(function (z) { z.innerHTML = '<img alt="印章" src="' + pick.src + '">'; });
    document.getElementById("submit-seal").disabled = false;
  }
  c.controls.filter(function (x) { return x.filled_by === "enterprise" && x.kind === "seal"; }).forEach(function (a) {
    const holder = document.querySelector('.pg[data-page="' + a.page + '"]');
    const img = holder.querySelector("img");
    const zone = document.createElement("div");
    zone.className = "drop"; zone.dataset.area = a.key; zone.textContent = "拖入印章";
    function place() {
      const scale = img.clientWidth / (img.naturalWidth / 1.5);
      zone.style.left = a.x * scale + "px"; zone.style.top = a.y * scale + "px";
      zone.style.width = a.width * scale + "px"; zone.style.height = a.height * scale + "px";
    }
    if (img.complete && img.naturalWidth) place(); else img.addEventListener("load", place);
    window.addEventListener("resize", place);
    zone.addEventListener("dragover", function (e) { e.preventDefault(); zone.classList.add("over"); });
    zone.addEventListener("dragleave", function () { zone.classList.remove("over"); });
    zone.addEventListener("drop", function (e) {
      e.preventDefault(); zone.classList.remove("over");
      put(e.dataTransfer.getData("text/plain"));
    });
    zone.addEventListener("click", function () { if (picked) put(picked); });
    holder.appendChild(zone);
  });
}

/* Resolves once the page images up to page `last` have loaded (or failed). */
function pagesLoaded(last) {
  return Promise.all(Array.from(document.querySelectorAll(".pg")).filter(function (holder) {
    return Number(holder.dataset.page) <= last;
  }).map(function (holder) {
    const img = holder.querySelector("img");
    return img.complete ? null : new Promise(function (done) {
      img.addEventListener("load", done, { once: true });
      img.addEventListener("error", done, { once: true });
    });
  }));
}

function wire() {
  const sign = document.getElementById("sign");
  if (sign) sign.addEventListener("click", function () {
    const area = document.querySelector(".drop");
    // Pages still loading above the seal area would push it down after the scroll: wait for them.
    pagesLoaded(area ? Number(area.parentNode.dataset.page) : 0).then(function () {
      (area || document.getElementById("seal-panel")).scrollIntoView({ behavior: "smooth", block: "center" });
    });
  });
  document.getElementById("submit-seal").onclick = async function () {
    if (!chosenSeal) { toast("请先将印章拖到印章区", true); return; }
    const per = {}; per[ID] = filledValues(document.getElementById("enterprise-fields"));
    const method = chosenIntent(document.getElementById("seal-panel"));
    const r = await api("POST", "/api/v1/signing-sessions", { contract_ids: [ID], seal_id: chosenSeal, fields: per, intent_method: method });
    if (!r.ok) { showError(document.getElementById("enterprise-fields"), r.data); return; }
    followIntent(r.data, function (result) {
      if (result.signed.length) toast("签署成功"); else toast(result.failed[0].message, true);
      document.getElementById("seal-panel").hidden = true;
      load();
    });
  };
  const remind = document.getElementById("remind");
  if (remind) remind.addEventListener("click", async function () {
    const r = await api("POST", "/api/v1/contracts/" + ID + "/remind");
    if (!r.ok) { showError(null, r.data); return; }
    toast("已通过短信提醒劳动者签署"); load();
  });
  const withdraw = document.getElementById("withdraw");
  if (withdraw) withdraw.addEventListener("click", function () {
    const back = modal('<h3>撤回合同</h3><form novalidate><label>撤回原因</label><textarea name="reason" rows="3" maxlength="200"></textarea>' +
      '<div class="field-error" data-error-for="reason"></div><div class="row mt-12"><span class="spacer"></span><button type="button" data-close>取消</button><button class="primary">确认撤回</button></div></form>');
    back.querySelector("form").addEventListener("submit", async function (e) {
      e.preventDefault();
      const r = await api("POST", "/api/v1/contracts/" + ID + "/withdraw", { reason: e.target.reason.value.trim() });
      if (!r.ok) { showError(e.target, r.data); return; }
      clearErrors(e.target);
      back.remove(); toast("合同已撤回，可重新发起"); load();
    });
  });
  const again = document.getElementById("reinitiate");
  if (again) again.addEventListener("click", async function () {
    // A template contract goes back through the wizard, prefilled, so it is checked and can be edited.
    if (c.source !== "upload") { location.href = "/dashboard/contracts/new?from=" + encodeURIComponent(ID); return; }
    const r = await api("POST", "/api/v1/contracts/" + ID + "/reinitiate");
    if (!r.ok) { showError(null, r.data); return; }
    location.href = "/dashboard/contracts/" + r.data.id;
  });
}

onMe(load);
