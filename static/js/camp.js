/* Camp page: the population chart, and the camp's point with circles of 1, 3 and 5 km on a
   Leaflet map. Works without tiles (closed networks): the reference basemap stands in for them
   (basemap.js) and the point and circles are drawn anyway. */
(function () {
  "use strict";

  function drawMap() {
    var node = document.getElementById("camp-map-config");
    var container = document.getElementById("camp-map");
    if (!node || !container || typeof L === "undefined") return;
    var config = JSON.parse(node.textContent);
    if (!config) return;
    var center = [config.lat, config.lon];
    var map = L.map(container, {
      scrollWheelZoom: false, minZoom: config.map.minZoom, maxZoom: config.map.maxZoom
    }).setView(center, 11);
    if (window.CeasefireBasemap) window.CeasefireBasemap.add(map, config.map);
    var circles = L.featureGroup().addTo(map);
    config.radii.slice().reverse().forEach(function (radius) {
      L.circle(center, {
        radius: radius, color: "#0b5f8a", weight: 1.5, dashArray: "4 4", fillOpacity: 0.05
      })
        .bindTooltip(
          document.createTextNode(config.strings.radius.replace("%(n)s", String(radius / 1000)))
        )
        .addTo(circles);
    });
    L.circleMarker(center, {
      radius: 7, color: "#7a3e00", weight: 2, fillColor: "#e69f00", fillOpacity: 0.9
    })
      .bindTooltip(document.createTextNode(config.strings.camp))
      .addTo(map);
    map.fitBounds(circles.getBounds(), { padding: [8, 8], animate: false });
    container.classList.add("map-ready");
  }

  drawMap();
  if (window.PageChart) window.PageChart.draw("camp-chart", "camp-chart-config", "line");
})();
