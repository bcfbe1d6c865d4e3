/* Draws a Chart.js chart from a JSON config script (zone and camp pages): bars stacked by event
   type, or lines. Text in the config is data, never HTML: Chart.js draws it on the canvas. */
(function () {
  "use strict";

  function draw(canvasId, configId, type) {
    var canvas = document.getElementById(canvasId);
    var node = document.getElementById(configId);
    if (!canvas || !node || typeof Chart === "undefined") return null;
    var config = JSON.parse(node.textContent);
    if (!config || !config.labels || !config.labels.length) return null;
    var root = document.documentElement;
    var rtl = root.dir === "rtl";
    var stacked = Boolean(config.stacked);
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    var datasets = config.datasets.map(function (dataset) {
      return {
        label: dataset.label,
        data: dataset.data,
        backgroundColor: dataset.colour,
        borderColor: dataset.colour,
        borderWidth: type === "line" ? 2 : 0,
        pointRadius: type === "line" ? 2 : 0,
        spanGaps: true,
        tension: 0
      };
    });
    var chart = new Chart(canvas, {
      type: type,
      data: { labels: config.labels, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        locale: root.lang || "en",
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: { position: "bottom", rtl: rtl, textDirection: rtl ? "rtl" : "ltr" },
          tooltip: { rtl: rtl, textDirection: rtl ? "rtl" : "ltr" }
        },
        scales: {
          x: { stacked: stacked, ticks: { autoSkip: true, maxRotation: 60 } },
          y: {
            stacked: stacked,
            beginAtZero: true,
            position: rtl ? "right" : "left",
            ticks: { precision: 0 },
            title: { display: true, text: config.strings.incidents }
          }
        }
      }
    });
    canvas.classList.add("chart-ready");
    return chart;
  }

  window.PageChart = { draw: draw };
})();
