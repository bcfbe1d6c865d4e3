/* Patrol page: the planned route and the actual track (both fetched from the API as GeoJSON)
   and the events on a Leaflet map. Works without tiles (closed networks): the reference basemap
   stands in for them (basemap.js). */
(function () {
  "use strict";
  var node = document.getElementById("patrol-map-config");
  var container = document.getElementById("patrol-map");
  var status = document.getElementById("patrol-map-status");
  if (!node || !container || typeof L === "undefined") return;
  var config = JSON.parse(node.textContent);
  var map = L.map(container, {
    scrollWheelZoom: false, minZoom: config.map.minZoom, maxZoom: config.map.maxZoom
  }).setView(config.map.center, config.map.zoom);
  if (window.CeasefireBasemap) window.CeasefireBasemap.add(map, config.map);
  var drawn = L.featureGroup().addTo(map);

  function load(url) {
    return fetch(url, {
      credentials: "same-origin",
      headers: { Accept: "application/geo+json" }
    }).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    });
  }

  function eventLabel(event) {
    var when = (event.occurred_at || "").replace("T", " ").slice(0, 16);
    return (config.kinds[event.kind] || event.kind) + " · " + when;
  }

  Promise.all([load(config.routeUrl), load(config.patrolUrl)])
    .then(function (results) {
      var route = results[0];
      var patrol = results[1];
      L.geoJSON(route, {
        style: { color: "#51606e", weight: 4, opacity: 0.6, dashArray: "6 6" }
      })
        .bindTooltip(document.createTextNode(config.strings.route))
        .addTo(drawn);
      if (patrol.geometry) {
        L.geoJSON(patrol, { style: { color: "#d55e00", weight: 4, opacity: 0.9 } })
          .bindTooltip(document.createTextNode(config.strings.track))
          .addTo(drawn);
      }
      var events = (patrol.properties && patrol.properties.events) || [];
      events.forEach(function (event) {
        var location = event.location;
        if (!location || !location.coordinates) return;
        // GeoJSON is lon, lat; Leaflet wants lat, lon. Labels are text nodes, never HTML.
        L.circleMarker([location.coordinates[1], location.coordinates[0]], {
          radius: 7, color: "#6a1b4d", weight: 2, fillColor: "#cc79a7", fillOpacity: 0.9
        })
          .bindTooltip(document.createTextNode(eventLabel(event)))
          .addTo(drawn);
      });
      var bounds = drawn.getBounds();
      if (bounds.isValid()) map.fitBounds(bounds, { padding: [16, 16], animate: false });
      container.classList.add("map-ready");
    })
    .catch(function () {
      if (status) status.textContent = config.strings.failed;
    });
})();
