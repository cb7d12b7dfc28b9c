/* Export links (<a data-export="/api/v1/…/export.xlsx">): each list calls exportWith() with the
 * filters it just asked the list for, so an export holds exactly the records the list shows. */
export function exportWith(query) {
  const params = new URLSearchParams(query);
  params.delete("page"); params.delete("per_page");
  const rest = params.toString();
  document.querySelectorAll("a[data-export]").forEach(function (a) {
    a.href = a.dataset.export + (rest ? "?" + rest : "");
  });
}
