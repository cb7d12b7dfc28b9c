import { api, me, next } from "../js/api.js";
import { ROLE } from "../js/labels.js";
import { escape, showError } from "../js/ui.js";

async function start() {
  const person = await me();
  if (!person) return;
  const list = document.getElementById("enterprise-list");
  if (!person.enterprises.length) { location.href = "/register"; return; }
  list.innerHTML = person.enterprises.map(function (e, i) {
    const checked = (person.enterprise ? person.enterprise.id === e.id : i === 0) ? " checked" : "";
    return '<label class="list-item"><span>' + escape(e.name) + ' <span class="badge">' + (ROLE[e.role] || e.role) +
      '</span></span><input type="radio" name="enterprise_id" value="' + escape(e.id) + '"' + checked + "></label>";
  }).join("");
  document.getElementById("choose-form").addEventListener("submit", async function (ev) {
    ev.preventDefault();
    const id = new FormData(ev.target).get("enterprise_id");
    const r = await api("POST", "/api/v1/session/enterprise", { enterprise_id: id });
    if (!r.ok) { showError(null, r.data); return; }
    location.href = next("/dashboard");
  });
}

start();
