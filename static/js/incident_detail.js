/* The incident page's small map: a marker at the exact point, or the grid cell for a coarse
   location. Configuration from the "incident-map-config" JSON script. Works without tiles
   (closed networks): the reference basemap stands in for them (basemap.js) and the point or
   cell is drawn either way. */
(function () {
  "use strict";
  var configNode = document.getElementById("incident-map-config");
  var container = document.getElementById("incident-map");
  if (!configNode || !container || typeof L === "undefined") return;
  var config = JSON.parse(configNode.textContent);
  var center = [config.lat, config.lon];
  var map = L.map(container, {
    scrollWheelZoom: false, minZoom: config.map.minZoom, maxZoom: config.map.maxZoom
  }).setView(center, config.coarse ? 11 : 13);
  if (window.CeasefireBasemap) window.CeasefireBasemap.add(map, config.map);
  if (config.coarse) {
    var half = config.gridDegrees / 2;
    L.rectangle(
      [[config.lat - half, config.lon - half], [config.lat + half, config.lon + half]],
      { color: "#0b5f8a", weight: 2, fillOpacity: 0.15 }
    ).addTo(map);
  } else {
    var marker = L.circleMarker(center, {
      radius: 8, color: "#a4161a", weight: 2, fillColor: "#e63946", fillOpacity: 0.8
    }).addTo(map);
    // bindTooltip with a text node: the place name is user text, never parsed as HTML.
    marker.bindTooltip(document.createTextNode(config.markerLabel || ""));
  }
  container.classList.add("map-ready");
})();
