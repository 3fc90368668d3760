// Portfolio packs (templates/packs/portfolio_packs.html): each unfinished job's progress,
// read from the API every two seconds until it has finished; then the page is reloaded
// so the finished job shows its download link.
(function () {
  "use strict";
  var jobs = document.querySelectorAll(".pack-job[data-poll]");
  Array.prototype.forEach.call(jobs, function (job) {
    var bar = job.querySelector("progress");
    var status = job.querySelector(".pack-job-status");
    function poll() {
      fetch(job.dataset.poll, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (state) {
          if (!state) { return; }
          bar.value = state.percent_done;
          bar.textContent = state.percent_done + "%";
          status.textContent = state.status + ", " + state.percent_done + "% · " + state.packs_made +
            " packs of " + state.engagements_total + " engagements";
          if (state.status === "succeeded" || state.status === "failed") {
            window.location.reload();
          } else {
            window.setTimeout(poll, 2000);
          }
        });
    }
    window.setTimeout(poll, 2000);
  });
})();
