// Refreshes the dashboard's charts without reloading the page: fetch the server-drawn SVG
// fragment every 10 s and swap it in. Served from the package (CSP script-src 'self').
"use strict";
(function () {
  const PERIOD_MS = 10000;
  let refreshes = 0;
  async function refresh() {
    const current = document.getElementById("charts-body");
    if (!current) return;
    try {
      const response = await fetch("/dashboard/charts", { credentials: "same-origin", cache: "no-store" });
      if (!response.ok) return;
      const holder = document.createElement("div");
      holder.innerHTML = await response.text();
      const fresh = holder.querySelector("#charts-body");
      if (!fresh) return;
      refreshes += 1;
      fresh.dataset.refreshes = String(refreshes); // how many swaps so far: visible to tests
      current.replaceWith(fresh);
    } catch (error) {
      // the API is restarting or unreachable: keep the last charts, try again next period
    }
  }
  setInterval(refresh, PERIOD_MS);
})();
