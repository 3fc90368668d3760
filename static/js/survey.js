// Period page: draw each survey direction's paired bars (a side's rating of the other per
// statement beside the other side's prediction of it). Progressive enhancement: the table
// under each chart has the same numbers.
(function () {
  "use strict";

  var source = document.getElementById("survey-charts");
  if (!source || typeof window.Chart === "undefined") return;
  var charts = JSON.parse(source.textContent);
  document.querySelectorAll("canvas.survey-chart").forEach(function (canvas) {
    var chart = charts[Number(canvas.dataset.index)];
    if (!chart) return;
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: chart.labels,
        datasets: [
          { label: chart.rating_label, data: chart.ratings, backgroundColor: "#1d4ed8" },
          { label: chart.prediction_label, data: chart.predictions, backgroundColor: "#f59e0b" }
        ]
      },
      options: {
        indexAxis: "y", responsive: true, maintainAspectRatio: false, animation: false,
        scales: { x: { min: 0, max: 5, title: { display: true, text: "1 strongly disagree – 5 strongly agree" } } },
        plugins: { legend: { position: "bottom" } }
      }
    });
  });
})();
