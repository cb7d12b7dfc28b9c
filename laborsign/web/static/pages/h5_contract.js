import { api } from "../js/api.js";
import { SignaturePad } from "../js/signature-pad.js";
import { chosenIntent, followIntent, intentChoice } from "../js/signing.js";
import { clearErrors, escape, filledValues, modal, pageData, showError, toast } from "../js/ui.js";

const ID = pageData().contractId;
let contract = null, signature = null, pad = null, follow = null, useSaved = false;
const SAVED = "/api/v1/me/signature.png";
// A signature kept from an earlier contract can be reused (the worker chose to save it).
const probe = new Image();
probe.onload = function () { document.getElementById("pad-saved").hidden = false; };
probe.src = SAVED + "?t=" + Date.now();
const ackKey = "ls_ack_signing";

function pageOffsetTop(n) { return document.querySelector('.doc-page[data-page="' + n + '"]'); }

function enterpriseFirst(contract) {
  return contract.status === "signing" && contract.signing_order === "enterprise_first" &&
    contract.parties.some(function (p) { return p.role === "enterprise" && p.status === "pending"; });
}

async function load() {
  const r = await api("GET", "/api/v1/me/contracts/" + ID);
  if (!r.ok) { document.getElementById("summary").innerHTML = escape((r.data && r.data.message) || "合同不存在"); return; }
  contract = r.data;
  const parties = contract.parties.map(function (p) {
    return escape(p.name) + ' <span class="badge' + (p.status === "signed" ? " ok" : "") + '">' + p.status_label + "</span>";
  }).join("<br>");
  document.getElementById("summary").innerHTML = "<b>" + escape(contract.name) + "</b><br>" +
    '<span class="muted">状态：' + contract.status_label + "</span><br>" + parties +
    '<br><a href="/api/v1/contracts/' + ID + '/document.pdf?download=1" id="download">下载全文（PDF）</a>' +
    (contract.ended_reason ? '<br><span class="muted">原因：' + escape(contract.ended_reason) + "</span>" : "") +
    (enterpriseFirst(contract) ? '<br><span class="muted" id="wait-enterprise">本合同由企业先签署，企业签署后将通知您签署。</span>' : "");
  const mine = contract.awaiting_me;
  document.getElementById("actions").hidden = !mine;
  document.getElementById("notice").hidden = !mine;
  const intentBox = document.getElementById("intent-box");
  intentBox.hidden = !mine;
  if (mine && !intentBox.innerHTML) intentBox.innerHTML = intentChoice();
  document.getElementById("ack").checked = !!localStorage.getItem(ackKey);
  renderFields(mine); renderPages(mine);
  // On a PC, offer the phone for drawing the signature and follow the result.
  const pc = !("ontouchstart" in window) && window.matchMedia("(min-width: 900px)").matches;
  document.getElementById("handoff").hidden = !(pc && mine);
  if (pc && mine && !follow) {
    document.getElementById("handoff-qr").src = "/api/v1/me/contracts/" + ID + "/qr.png";
    follow = setInterval(async function () {
      const now = await api("GET", "/api/v1/me/contracts/" + ID, null, { allow401: true });
      if (now.ok && !now.data.awaiting_me) {
        clearInterval(follow); follow = null;
        toast("已在手机上完成签署");
        load();
      }
    }, 3000);
  }
}

function renderFields(mine) {
  const form = document.getElementById("fields-form");
  const own = contract.controls.filter(function (c) { return c.filled_by === "worker" && ["signature", "seal", "sign_date"].indexOf(c.kind) < 0; });
  if (!mine || !own.length) { form.innerHTML = ""; return; }
  const seen = {};
  form.innerHTML = '<div class="card"><h3>请填写</h3>' + own.filter(function (c) { if (seen[c.key]) return false; seen[c.key] = 1; return true; }).map(function (c) {
    const input = c.kind === "choice" ? '<select name="' + c.key + '"><option value="">请选择</option>' + c.options.map(function (o) {
        return "<option>" + escape(o) + "</option>"; }).join("") + "</select>"
      : '<input name="' + c.key + '" type="' + (c.kind === "date" ? "date" : c.kind === "number" ? "number" : "text") + '">';
    return "<label>" + escape(c.label) + (c.required ? " *" : "") + "</label>" + input +
      '<div class="field-error" data-error-for="fields.' + c.key + '"></div>';
  }).join("") + "</div>";
}

function renderPages(mine) {
  const box = document.getElementById("pages");
  box.innerHTML = "";
  const total = contract.pages;
  for (let n = 1; n <= total; n++) {
    const div = document.createElement("div");
    div.className = "doc-page"; div.dataset.page = n;
    div.innerHTML = '<img alt="第' + n + '页" loading="lazy" src="/api/v1/contracts/' + ID + "/pages/" + n + '.png?scale=1.5&v=' + contract.document_sha256.slice(0, 12) + '">';
    box.appendChild(div);
  }
  document.getElementById("zoom-bar").hidden = !total;
  if (!mine) return;
  contract.controls.filter(function (c) { return c.filled_by === "worker" && c.kind === "signature"; }).forEach(function (c) {
    const page = pageOffsetTop(c.page);
    const img = page.querySelector("img");
    function place() {
      const scale = img.clientWidth / (img.naturalWidth / 1.5);
      const area = page.querySelector('[data-key="' + c.key + '"]') || document.createElement("div");
      area.className = "area"; area.dataset.key = c.key;
      area.style.left = c.x * scale + "px"; area.style.top = c.y * scale + "px";
      area.style.width = c.width * scale + "px"; area.style.height = c.height * scale + "px";
      area.innerHTML = signature ? '<img alt="签名" src="' + signature + '">' : "点击签名";
      area.onclick = openPad;
      page.appendChild(area);
    }
    if (img.complete && img.naturalWidth) place(); else img.addEventListener("load", place);
    window.addEventListener("resize", place);
  });
}

document.getElementById("zoom").addEventListener("click", function (e) {
  const zoomed = document.getElementById("pages").classList.toggle("zoomed");
  e.target.textContent = zoomed ? "缩小" : "放大阅读";
  e.target.setAttribute("aria-pressed", String(zoomed));
  window.dispatchEvent(new Event("resize"));  // the signature areas follow the page's new size
});

function openPad() {
  document.getElementById("pad").hidden = false;
  if (!pad) pad = new SignaturePad(document.getElementById("pad-canvas"));
  else pad.resize();
}
document.getElementById("pad-clear").addEventListener("click", function () { pad.clear(); });
document.getElementById("pad-undo").addEventListener("click", function () { pad.undo(); });
document.getElementById("pad-cancel").addEventListener("click", function () { document.getElementById("pad").hidden = true; });
document.getElementById("pad-ok").addEventListener("click", function () {
  if (pad.isEmpty()) { toast("请先手写签名", true); return; }
  if (pad.isTooShort()) { toast("签名过于简单，请重新手写签名", true); return; }
  signature = pad.toDataURL();
  useSaved = false;
  document.getElementById("pad").hidden = true;
  renderPages(true);
});
document.getElementById("pad-saved").addEventListener("click", function () {
  signature = probe.src;
  useSaved = true;
  document.getElementById("pad").hidden = true;
  renderPages(true);
});

document.getElementById("ack").addEventListener("change", function (e) {
  if (e.target.checked) localStorage.setItem(ackKey, "1"); else localStorage.removeItem(ackKey);
});

document.getElementById("submit").addEventListener("click", async function () {
  if (!document.getElementById("ack").checked) { toast("请先阅读签署须知并勾选确认", true); document.getElementById("notice").scrollIntoView(); return; }
  if (!signature) { toast("请点击签名区完成手写签名", true); openPad(); return; }
  const form = document.getElementById("fields-form");
  const fields = filledValues(form);
  const r = await api("POST", "/api/v1/me/contracts/" + ID + "/signature", {
    signature_png: useSaved ? null : signature, use_saved_signature: useSaved, fields: fields,
    save_signature: !useSaved && document.getElementById("save-signature").checked,
    intent_method: chosenIntent(document.getElementById("intent-box")),
  });
  if (!r.ok) { showError(form, r.data); return; }
  clearErrors(form);
  followIntent(r.data, function (result) {
    if (result.signed.length) { toast("签署成功"); signature = null; useSaved = false; load(); }
    else toast((result.failed[0] && result.failed[0].message) || "签署失败", true);
  });
});

document.getElementById("decline").addEventListener("click", function () {
  const back = modal('<h3>拒签</h3><form id="decline-form" novalidate><label>拒签原因</label><textarea name="reason" rows="3" maxlength="200"></textarea>' +
    '<div class="field-error" data-error-for="reason"></div><div class="row mt-14"><span class="spacer"></span>' +
    '<button type="button" data-close>取消</button><button class="primary">确认拒签</button></div></form>');
  const form = back.querySelector("form");
  form.addEventListener("submit", async function (e) {
    e.preventDefault();
    const r = await api("POST", "/api/v1/me/contracts/" + ID + "/decline", { reason: form.reason.value.trim() });
    if (!r.ok) { showError(form, r.data); return; }
    clearErrors(form);
    back.remove(); toast("已拒签"); load();
  });
});

load();
