import { api } from "../js/api.js";
import { GENDERS } from "../js/labels.js";
import { escape, formatTime, modal } from "../js/ui.js";

async function start() {
  const r = await api("GET", "/api/v1/me/onboarding?per_page=50");
  if (!r.ok) return;
  const list = document.getElementById("list");
  list.innerHTML = r.data.items.map(function (x) {
    return '<a class="list-item" href="#" data-id="' + x.id + '"><span><b>' + escape(x.enterprise_name) + '</b><br><span class="muted text-13">提交于 ' +
      formatTime(x.created_at) + '</span></span><span class="badge' + (x.status === "approved" ? " ok" : x.status === "rejected" ? " bad" : " warn") + '">' +
      (x.status === "pending_review" ? "资料审核中" : x.status_label) + "</span></a>";
  }).join("") || '<div class="card muted">您还没有提交过入职资料。请通过用人单位发送的链接或二维码填写。</div>';
  list.querySelectorAll("[data-id]").forEach(function (a) {
    a.addEventListener("click", async function (e) {
      e.preventDefault();
      const d = await api("GET", "/api/v1/me/onboarding/" + a.dataset.id);
      if (!d.ok) return;
      const x = d.data;
      modal("<h3>" + escape(x.enterprise_name) + "</h3><p>状态：" + escape(x.status_label) + (x.reject_reason ? "<br>原因：" + escape(x.reject_reason) : "") +
        "</p><p>姓名：" + escape(x.name) + "<br>性别：" + (GENDERS[x.gender] || "") + "<br>证件：" + escape(x.id_type_label) + " " + escape(x.id_number) +
        "<br>出生日期：" + x.birth_date + "<br>手机号：" + escape(x.phone) + "<br>现住址：" + escape(x.address) +
        "<br>紧急联系人：" + escape(x.emergency_contact.name) + "（" + escape(x.emergency_contact.relation) + "）" + escape(x.emergency_contact.phone) +
        '</p><button class="block" data-close>关闭</button>');
    });
  });
}

start();
