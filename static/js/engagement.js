// Engagement and period pages: draw the score chart, follow a queued recompute, follow the
// provisional scorecard as writes refresh it (PRODUCT.md §12), and load the record forms.
// Progressive enhancement: without JavaScript the table and a reload show the same.
(function () {
  "use strict";

  function drawChart() {
    var canvas = document.getElementById("score-chart");
    var source = document.getElementById("score-history");
    if (!canvas || !source || typeof window.Chart === "undefined") return;
    var history = JSON.parse(source.textContent);
    var line = function (label, data, colour, dash) {
      return {
        label: label, data: data, borderColor: colour, backgroundColor: colour,
        borderWidth: 2, borderDash: dash || [], pointRadius: 3, spanGaps: true, tension: 0.2,
        // A provisional period (in progress or closing) is drawn as a hollow point.
        pointBackgroundColor: function (context) {
          return history.provisional && history.provisional[context.dataIndex] ? "#ffffff" : colour;
        }
      };
    };
    new window.Chart(canvas, {
      type: "line",
      data: {
        labels: history.labels,
        datasets: [
          line("Overall", history.overall, "#1d4ed8"),
          line("Client side", history.client, "#15803d", [6, 4]),
          line("Provider side", history.provider, "#b45309", [2, 3])
        ]
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        // A point opens its period's page.
        onClick: function (event, elements) {
          if (elements.length && history.urls) window.location.href = history.urls[elements[0].index];
        },
        onHover: function (event, elements) {
          event.native.target.style.cursor = elements.length ? "pointer" : "default";
        },
        scales: { y: { min: 0, max: 100, title: { display: true, text: "Score" } } },
        plugins: { legend: { position: "bottom" } }
      }
    });
  }

  function followRun() {
    var status = document.getElementById("run-status");
    if (!status || !status.dataset.runUrl) return;
    var attempts = 0;
    var poll = function () {
      attempts += 1;
      fetch(status.dataset.runUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
        .then(function (run) {
          // The server words the status; this line only replaces what the page said.
          status.textContent = run.message;
          if (!run.finished) {
            if (attempts < 120) window.setTimeout(poll, 2000);
            return;
          }
          if (run.status === "succeeded") {
            var link = document.createElement("a");
            link.href = window.location.pathname;
            link.textContent = "Show it";
            status.appendChild(document.createTextNode(" "));
            status.appendChild(link);
          }
        })
        .catch(function () { status.textContent = "Could not check the recompute; reload the page to see its result."; });
    };
    poll();
  }

  // Says how long ago a <time datetime> was, as the server words it ("just now", "5 minutes ago").
  function showAge(time) {
    if (!time) return;
    var seconds = (Date.now() - Date.parse(time.getAttribute("datetime"))) / 1000;
    if (isNaN(seconds)) return;
    var minutes = Math.floor(seconds / 60);
    if (minutes < 1) time.textContent = "just now";
    else if (minutes < 60) time.textContent = minutes === 1 ? "1 minute ago" : minutes + " minutes ago";
  }

  // Polls the provisional paragraph (304 while unchanged, by its ETag) and swaps it in when a
  // refresh changed it; only while the page is visible.
  function followProvisional() {
    var live = document.getElementById("provisional-live");
    if (!live || !live.dataset.url) return;
    var version = live.dataset.version;
    var poll = function () {
      if (document.hidden) { window.setTimeout(poll, 5000); return; }
      fetch(live.dataset.url, { headers: { "If-None-Match": version }, credentials: "same-origin", cache: "no-store" })
        .then(function (response) {
          if (response.status !== 200) return null;
          version = response.headers.get("ETag") || version;
          return response.text();
        })
        .then(function (html) { if (html !== null) live.innerHTML = html; })
        .catch(function () { /* the next poll tries again */ })
        .then(function () {
          showAge(live.querySelector("time"));
          window.setTimeout(poll, 5000);
        });
    };
    window.setTimeout(poll, 5000);
  }

  // The Record section's forms come with the page as links; opening a section loads its
  // form in place (the server's own HTML for that form alone). If loading fails the link stays.
  function loadRecordForms() {
    var sections = document.querySelectorAll("details[data-part]");
    Array.prototype.forEach.call(sections, function (details) {
      details.addEventListener("toggle", function () {
        if (!details.open || details.dataset.loaded) return;
        details.dataset.loaded = "loading";
        fetch(details.dataset.part, { headers: { Accept: "text/html" }, credentials: "same-origin" })
          .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
          .then(function (html) {
            details.querySelector(".record-form").innerHTML = html;
            details.dataset.loaded = "yes";
          })
          .catch(function () { delete details.dataset.loaded; });
      });
    });
  }

  drawChart();
  followRun();
  followProvisional();
  loadRecordForms();
})();
