/* Zone page: the zone's outline (fetched from the zones API as GeoJSON) and its camps on a
   Leaflet map, and the chart of incidents by event type. Works without tiles (closed networks):
   the reference basemap stands in for them (basemap.js) and the outline is drawn either way. */
(function () {
  "use strict";

  function drawMap() {
    var node = document.getElementById("zone-map-config");
    var container = document.getElementById("zone-map");
    var status = document.getElementById("zone-map-status");
    if (!node || !container || typeof L === "undefined") return;
    var config = JSON.parse(node.textContent);
    var map = L.map(container, {
      scrollWheelZoom: false, minZoom: config.map.minZoom, maxZoom: config.map.maxZoom
    }).setView(config.map.center, config.map.zoom);
    if (window.CeasefireBasemap) window.CeasefireBasemap.add(map, config.map);
    var campLayer = L.featureGroup().addTo(map);
    config.camps.forEach(function (camp) {
      var marker = L.circleMarker([camp.lat, camp.lon], {
        radius: 7, color: "#7a3e00", weight: 2, fillColor: "#e69f00", fillOpacity: 0.9
      }).addTo(campLayer);
      // Built as DOM nodes: camp names are data, never parsed as HTML.
      var link = document.createElement("a");
      link.href = camp.url;
      link.textContent = camp.name;
      marker.bindPopup(link);
      marker.bindTooltip(document.createTextNode(camp.name));
    });
    fetch(config.outlineUrl, {
      credentials: "same-origin",
      headers: { Accept: "application/geo+json" }
    })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (feature) {
        var outline = L.geoJSON(feature, {
          style: { color: "#0b5f8a", weight: 2, fillColor: "#0b5f8a", fillOpacity: 0.12 }
        }).addTo(map);
        outline.bringToBack();
        var bounds = outline.getBounds();
        if (campLayer.getLayers().length) bounds.extend(campLayer.getBounds());
        if (bounds.isValid()) map.fitBounds(bounds, { padding: [12, 12], animate: false });
        container.classList.add("map-ready");
      })
      .catch(function () {
        if (status) status.textContent = config.strings.failed;
      });
  }

  drawMap();
  if (window.PageChart) window.PageChart.draw("zone-chart", "zone-chart-config", "bar");
})();
