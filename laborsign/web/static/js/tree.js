/* The department tree of the roster and of the worker picker: a "全部员工" line, then each
 * department under its parent, indented by depth. */
import { escape } from "./ui.js";

const OPS = [["rename", "改名"], ["sub", "子部门"], ["move", "移动"], ["del", "删除"]];

function byParent(departments) {
  const out = {};
  departments.forEach(function (d) { (out[d.parent_id || ""] = out[d.parent_id || ""] || []).push(d); });
  return out;
}

function line(id, name, on) {
  const div = document.createElement("div");
  div.dataset.dept = id;
  if (on) div.className = "on";
  const label = document.createElement("span");
  label.textContent = name;
  div.appendChild(label);
  return div;
}

/* Draws the tree into `box`. `pick(id)` gets the department clicked ("" for everyone); with
 * `ops` ({rename, sub, move, del}: functions of a department id) each line gets those buttons. */
export function drawTree(box, departments, selected, pick, ops) {
  const children = byParent(departments);
  const lines = [line("", "全部员工", !selected)];
  (function walk(parent, depth) {
    (children[parent] || []).forEach(function (d) {
      const div = line(d.id, d.name, selected === d.id);
      div.style.paddingLeft = 6 + depth * 14 + "px";
      if (ops) {
        const tools = document.createElement("span");
        tools.className = "ops";
        tools.innerHTML = OPS.map(function (op) {
          return '<button class="link" data-' + op[0] + '="' + escape(d.id) + '">' + op[1] + "</button>";
        }).join(" ");
        div.appendChild(tools);
      }
      lines.push(div);
      walk(d.id, depth + 1);
    });
  })("", 0);
  box.innerHTML = "";
  lines.forEach(function (div) {
    div.addEventListener("click", function (e) {
      if (e.target.tagName === "BUTTON") return;
      pick(div.dataset.dept);
    });
    box.appendChild(div);
  });
  if (!ops) return;
  OPS.forEach(function (op) {
    box.querySelectorAll("[data-" + op[0] + "]").forEach(function (b) {
      b.addEventListener("click", function () { ops[op[0]](b.dataset[op[0]]); });
    });
  });
}

/* The ids of a department and of every department below it (it cannot move under those). */
export function subtree(departments, id) {
  const below = {};
  below[id] = true;
  let grew = true;
  while (grew) {
    grew = false;
    departments.forEach(function (d) { if (d.parent_id && below[d.parent_id] && !below[d.id]) { below[d.id] = true; grew = true; } });
  }
  return below;
}

/* <option>s for choosing a department; `none` is the label of the empty choice. */
export function departmentOptions(departments, selected, none) {
  return '<option value="">' + escape(none) + "</option>" + departments.map(function (d) {
    return '<option value="' + escape(d.id) + '"' + (d.id === selected ? " selected" : "") + ">" + escape(d.name) + "</option>";
  }).join("");
}
