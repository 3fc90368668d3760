// Compare page: one line per engagement over their last closed periods.
// Progressive enhancement: without JavaScript the table below the chart has the same numbers.
(function () {
  "use strict";
  var COLOURS = ["#1d4ed8", "#15803d", "#b45309", "#9333ea"];
  var DASHES = [[], [6, 4], [2, 3], [8, 3, 2, 3]];

  function draw() {
    var canvas = document.getElementById("compare-chart");
    var source = document.getElementById("compare-data");
    if (!canvas || !source || typeof window.Chart === "undefined") return;
    var chart = JSON.parse(source.textContent);
    new window.Chart(canvas, {
      type: "line",
      data: {
        labels: chart.labels,
        datasets: chart.lines.map(function (line, index) {
          var colour = COLOURS[index % COLOURS.length];
          return {
            label: line.label, data: line.values, borderColor: colour, backgroundColor: colour,
            borderWidth: 2, borderDash: DASHES[index % DASHES.length], pointRadius: 3,
            spanGaps: true, tension: 0.2
          };
        })
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        scales: { y: { min: 0, max: 100, title: { display: true, text: "Overall" } } },
        plugins: { legend: { position: "bottom" } }
      }
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
