// Refreshes the dashboard without reloading the page: every 10 s, fetch /dashboard and swap
// its <main> (the numbers, the tables and the server-drawn SVG charts) into this one.
// Served from the package (CSP script-src 'self'); without scripts, a <noscript> meta
// refresh reloads the page instead.
"use strict";
(function () {
  const PERIOD_MS = 10000;
  let refreshes = 0;
  async function refresh() {
    const current = document.querySelector("main");
    if (!current) return;
    try {
      const response = await fetch("/dashboard", { credentials: "same-origin", cache: "no-store" });
      if (!response.ok) return; // signed out or the API restarting: keep what is shown
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = page.querySelector("main");
      const charts = fresh && fresh.querySelector("#charts-body");
      if (!fresh || !charts) return;
      refreshes += 1;
      charts.dataset.refreshes = String(refreshes); // how many swaps so far: visible to tests
      current.replaceWith(document.adoptNode(fresh));
    } catch (error) {
      // unreachable: keep the last page, try again next period
    }
  }
  setInterval(refresh, PERIOD_MS);
})();
