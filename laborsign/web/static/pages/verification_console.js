import { api } from "../js/api.js";
import { onMe } from "../js/chrome.js";
import { clearErrors, escape, formatTime, modal, showError, toast } from "../js/ui.js";

let status = "pending";

async function load() {
  const r = await api("GET", "/api/v1/console/verifications?status=" + status + "&per_page=50");
  if (!r.ok) { showError(null, r.data); return; }
  const rows = r.data.items;
  document.getElementById("rv-empty").hidden = rows.length > 0;
  document.getElementById("rv-pager").textContent = "共 " + r.data.total + " 条";
  document.getElementById("rv-rows").innerHTML = rows.map(function (x) {
    const op = x.operator ? escape(x.operator.name || "") + " " + escape(x.operator.phone_masked) : "";
    const actions = x.status === "pending"
      ? '<button type="button" class="primary" data-approve="' + x.id + '">通过</button> <button type="button" data-reject="' + x.id + '">驳回</button>'
      : (x.status === "verified" ? '<span class="badge ok">已通过</span>' : '<span class="badge bad">已驳回</span> ' + escape(x.reason || ""));
    return "<tr><td>" + escape(x.enterprise.name) + '</td><td class="hide-sm">' + escape(x.enterprise.credit_code) + "</td><td>" + op +
      '</td><td class="hide-sm">' + formatTime(x.created_at) + '</td><td><a target="_blank" href="' + x.letter_url + '">' +
      escape(x.letter_filename || "查看") + "</a></td><td>" + actions + "</td></tr>";
  }).join("");
  document.querySelectorAll("[data-approve]").forEach(function (b) {
    b.addEventListener("click", async function () {
      if (!confirm("确认授权书真实有效、已加盖企业公章，审核通过？")) return;
      const r2 = await api("POST", "/api/v1/console/verifications/" + b.dataset.approve + "/approve");
      if (!r2.ok) { showError(null, r2.data); return; }
      toast("已审核通过"); load();
    });
  });
  document.querySelectorAll("[data-reject]").forEach(function (b) {
    b.addEventListener("click", function () {
      const back = modal('<h3>驳回授权书</h3><form novalidate><label>驳回原因</label><textarea name="reason" rows="3" maxlength="200"></textarea>' +
        '<div class="field-error" data-error-for="reason"></div><div class="row mt-12"><span class="spacer"></span>' +
        '<button type="button" data-close>取消</button><button class="primary">驳回</button></div></form>');
      const form = back.querySelector("form");
      form.addEventListener("submit", async function (e) {
        e.preventDefault();
        const r2 = await api("POST", "/api/v1/console/verifications/" + b.dataset.reject + "/reject", { reason: form.reason.value.trim() });
        if (!r2.ok) { showError(form, r2.data); return; }
        clearErrors(form);
        back.remove(); toast("已驳回"); load();
      });
    });
  });
}
document.querySelectorAll("#rv-tabs button").forEach(function (b) {
  b.addEventListener("click", function () {
    status = b.dataset.status;
    document.querySelectorAll("#rv-tabs button").forEach(function (x) { x.classList.toggle("active", x === b); });
    load();
  });
});
onMe(function (me) {
  if (me.user.platform_role !== "reviewer") {
    document.querySelector("main").innerHTML = '<div class="card">仅平台审核员可以访问本页面。</div>';
    return;
  }
  load();
});
