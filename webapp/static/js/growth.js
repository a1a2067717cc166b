// Draws the WHO percentile curves and the child's own points with Chart.js.
// Data comes from the page's JSON endpoint; the table under each chart is the no-JS fallback.
(function () {
  "use strict";
  if (!window.Chart) { return; }
  var LINE_COLOURS = { "3": "#d9a3b1", "15": "#cfb8c4", "50": "#8fb9a8", "85": "#cfb8c4", "97": "#d9a3b1" };

  function draw(canvas, data) {
    var datasets = Object.keys(data.lines).sort(function (a, b) { return b - a; }).map(function (p) {
      return {
        label: "P" + p, data: data.lines[p].map(function (xy) { return { x: xy[0], y: xy[1] }; }),
        borderColor: LINE_COLOURS[p] || "#ccc", borderWidth: p === "50" ? 2 : 1.2,
        pointRadius: 0, pointHitRadius: 0, tension: 0.3, fill: false, order: 2
      };
    });
    datasets.push({
      label: data.title, data: data.points.map(function (pt) { return { x: pt.x, y: pt.y, meta: pt }; }),
      borderColor: "#c4607a", backgroundColor: "#c4607a", borderWidth: 2, pointRadius: 4,
      pointHoverRadius: 7, pointHitRadius: 12, showLine: true, tension: 0, order: 1
    });
    new window.Chart(canvas, {
      type: "line",
      data: { datasets: datasets },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false, parsing: true,
        interaction: { mode: "nearest", intersect: true },
        scales: {
          x: { type: "linear", title: { display: true, text: data.x_label } },
          y: { title: { display: true, text: data.y_label } }
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            filter: function (item) { return !!item.raw.meta; },
            callbacks: {
              title: function (items) { return items[0].raw.meta.date; },
              label: function (item) {
                var m = item.raw.meta;
                return [m.age, m.value, m.percentile];
              }
            }
          }
        }
      }
    });
  }

  document.querySelectorAll("canvas[data-growth-chart]").forEach(function (canvas) {
    fetch(canvas.dataset.growthChart, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
      .then(function (data) { draw(canvas, data); canvas.dataset.drawn = "true"; })
      .catch(function () { canvas.closest(".growth-chart").classList.add("d-none"); });
  });
})();
