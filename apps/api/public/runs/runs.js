/* My runs: while a run of the page is live, the table is read again every few seconds (the same page's HTML). */
"use strict";

const REFRESH_MS = 5000;
async function refresh() {
  if (!document.querySelector('#runs tr[data-live="true"]')) return;
  const res = await fetch(window.location.href, { credentials: "same-origin", headers: { accept: "text/html" } });
  if (!res.ok) return;
  const fresh = new DOMParser().parseFromString(await res.text(), "text/html").querySelector("#runs tbody");
  if (fresh) document.querySelector("#runs tbody").replaceWith(fresh);
}
setInterval(refresh, REFRESH_MS);
document.getElementById("status-filter")?.addEventListener("change", (e) => e.target.form.submit());
