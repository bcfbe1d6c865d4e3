/* The map dashboard. Settings and translated labels come from the "map-config" JSON script; all
   data comes from the API with the session, so each role sees what the API gives it. The state
   (view, period, filters, layers) lives in the URL so that a view can be shared.

   Smooth with many incidents: the page asks the server for grid clusters of the incidents in the
   bounding box (one GROUP BY) and fetches the points themselves only when few are in view.
   User text is only ever set with textContent. */
(function () {
  "use strict";
  var configNode = document.getElementById("map-config");
  if (!configNode || typeof L === "undefined" || !window.CeasefireBasemap) return;
  var config = JSON.parse(configNode.textContent);
  var strings = config.strings;
  var urls = config.urls;
  var DAY_MS = 86400000;
  var RANGES = { "24h": 1, "7d": 7, "30d": 30 };
  var OVERLAYS = ["incidents", "subdistricts", "corridor", "route", "patrols", "camps", "posts"];
  var DEBOUNCE_MS = 250;

  var typeByCode = {};
  config.types.forEach(function (type) { typeByCode[type.code] = type; });
  // A sub-type in the page's language (the API gives ACLED's English name).
  function subTypeLabel(p) {
    return (config.sub_type_labels || {})[p.sub_event_type] || p.sub_event_type_name;
  }

  // ---------------------------------------------------------------- helpers

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function format(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (match, name) {
      return values[name] === undefined ? match : String(values[name]);
    });
  }

  function number(n) {
    return Number(n).toLocaleString(document.documentElement.lang || undefined);
  }

  function isoDay(date) {
    return date.toISOString().slice(0, 10);
  }

  function parseDay(value) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(value || "")) return null;
    var date = new Date(value + "T00:00:00Z");
    return isNaN(date.getTime()) ? null : date;
  }

  function query(params) {
    var parts = [];
    Object.keys(params).forEach(function (key) {
      var value = params[key];
      if (value !== undefined && value !== null && value !== "") {
        parts.push(encodeURIComponent(key) + "=" + encodeURIComponent(value));
      }
    });
    return parts.join("&");
  }

  function getJSON(url, signal) {
    return fetch(url, {
      credentials: "same-origin",
      signal: signal
    }).then(function (response) {
      if (!response.ok) {
        var error = new Error("HTTP " + response.status);
        error.status = response.status;
        throw error;
      }
      return response.json();
    });
  }

  function showError(on) {
    var node = document.getElementById("map-error");
    node.hidden = !on;
    node.textContent = on ? strings.failed : "";
  }

  function isAbort(error) {
    return error && error.name === "AbortError";
  }

  // ---------------------------------------------------------------- state and the URL

  var form = document.getElementById("dashboard-filters");
  var fromInput = document.getElementById("filter-from");
  var toInput = document.getElementById("filter-to");
  var slider = document.getElementById("filter-slider");
  var periodOutput = document.getElementById("filter-period");
  var zoneSelect = document.getElementById("filter-zone");

  function checked(name) {
    return Array.prototype.filter.call(form.querySelectorAll("input[name=" + name + "]"),
      function (box) { return box.checked; }).map(function (box) { return box.value; });
  }

  function setChecked(name, values) {
    form.querySelectorAll("input[name=" + name + "]").forEach(function (box) {
      box.checked = values.indexOf(box.value) !== -1;
    });
  }

  var state = {
    range: "all", // "24h", "7d", "30d", "all" or "custom" (from/to)
    from: "",
    to: "",
    types: [],
    statuses: [],
    zone: "",
    layers: OVERLAYS.slice()
  };

  function readUrl() {
    var params = new URLSearchParams(window.location.search);
    var view = null;
    var lat = parseFloat(params.get("lat"));
    var lon = parseFloat(params.get("lon"));
    var zoom = parseInt(params.get("z"), 10);
    if (isFinite(lat) && isFinite(lon) && isFinite(zoom)) {
      view = { center: [lat, lon], zoom: Math.max(config.map.minZoom, Math.min(config.map.maxZoom, zoom)) };
    }
    var from = params.get("from") || "";
    var to = params.get("to") || "";
    if (parseDay(from) || parseDay(to)) {
      state.range = "custom";
      state.from = parseDay(from) ? from : "";
      state.to = parseDay(to) ? to : "";
    } else if (RANGES[params.get("range")]) {
      state.range = params.get("range");
    }
    var list = function (name) {
      return (params.get(name) || "").split(",").filter(function (item) { return item; });
    };
    state.types = list("type").filter(function (code) { return typeByCode[code]; });
    state.statuses = config.can_filter_status
      ? list("status").filter(function (status) { return config.statuses[status]; })
      : [];
    state.zone = params.get("zone") || "";
    if (params.has("layers")) {
      state.layers = list("layers").filter(function (name) { return OVERLAYS.indexOf(name) !== -1; });
    }
    return view;
  }

  function writeUrl() {
    var center = map.getCenter();
    var params = {
      lat: center.lat.toFixed(5),
      lon: center.lng.toFixed(5),
      z: map.getZoom()
    };
    if (state.range === "custom") {
      params.from = state.from;
      params.to = state.to;
    } else if (state.range !== "all") {
      params.range = state.range;
    }
    params.type = state.types.join(",");
    params.status = state.statuses.join(",");
    params.zone = state.zone;
    if (state.layers.length !== OVERLAYS.length) params.layers = state.layers.join(",") || "none";
    var search = query(params);
    window.history.replaceState(null, "", window.location.pathname + (search ? "?" + search : ""));
  }

  function stateToForm() {
    form.querySelectorAll("[data-range]").forEach(function (button) {
      button.setAttribute("aria-pressed", String(button.getAttribute("data-range") === state.range));
    });
    var period = periodBounds();
    fromInput.value = state.range === "custom" ? state.from : (period.after ? isoDay(period.after) : "");
    toInput.value = state.range === "custom" ? state.to : "";
    setChecked("type", state.types);
    setChecked("status", state.statuses);
    zoneSelect.value = state.zone;
    if (zoneSelect.value !== state.zone) {
      state.zone = "";
      zoneSelect.value = "";
    }
    syncSlider();
  }

  // The period as occurred_after (inclusive) and occurred_before (exclusive) instants.
  function periodBounds() {
    if (RANGES[state.range]) {
      return { after: new Date(Date.now() - RANGES[state.range] * DAY_MS), before: null };
    }
    if (state.range === "custom") {
      var to = parseDay(state.to);
      return { after: parseDay(state.from), before: to ? new Date(to.getTime() + DAY_MS) : null };
    }
    return { after: null, before: null };
  }

  function filterParams() {
    var period = periodBounds();
    return {
      occurred_after: period.after ? period.after.toISOString() : "",
      occurred_before: period.before ? period.before.toISOString() : "",
      type: state.types.join(","),
      review_status: state.statuses.join(","),
      zone: state.zone
    };
  }

  // The time slider moves the end of the period across the days that hold data, keeping its
  // length (30 days when the period was open-ended).
  var extentFirst = parseDay(config.extent.first);
  var extentLast = parseDay(config.extent.last);

  function syncSlider() {
    if (!extentFirst || !extentLast) {
      slider.disabled = true;
      periodOutput.textContent = strings.all_time;
      return;
    }
    var days = Math.round((extentLast - extentFirst) / DAY_MS);
    slider.max = String(days);
    var period = periodBounds();
    var end = period.before ? new Date(period.before.getTime() - DAY_MS) : extentLast;
    var index = Math.round((end - extentFirst) / DAY_MS);
    slider.value = String(Math.max(0, Math.min(days, index)));
    if (!period.after && !period.before) {
      periodOutput.textContent = strings.all_time;
    } else {
      periodOutput.textContent = (period.after ? isoDay(period.after) : "…") + " – " +
        (period.before ? isoDay(new Date(period.before.getTime() - DAY_MS)) : "…");
    }
  }

  function onSlider() {
    var end = new Date(extentFirst.getTime() + Number(slider.value) * DAY_MS);
    var period = periodBounds();
    var length = 30;
    if (period.after && period.before) {
      length = Math.max(1, Math.round((period.before - period.after) / DAY_MS));
    }
    state.range = "custom";
    state.to = isoDay(end);
    state.from = isoDay(new Date(end.getTime() - (length - 1) * DAY_MS));
    stateToForm();
    filtersChanged();
  }

  // ---------------------------------------------------------------- the map

  var initialView = readUrl();
  var map = L.map("dashboard-map", {
    center: initialView ? initialView.center : config.map.center,
    zoom: initialView ? initialView.zoom : config.map.zoom,
    minZoom: config.map.minZoom,
    maxZoom: config.map.maxZoom,
    zoomControl: true
  });
  map.attributionControl.setPrefix("");

  // Panes keep the order of the layers whatever order their data arrives in.
  [["choropleth", 350], ["corridor", 360], ["lines", 420], ["places", 450]].forEach(function (pane) {
    map.createPane(pane[0]).style.zIndex = String(pane[1]);
  });

  // Raster tiles where they can be reached, else our own reference basemap (static/js/basemap.js).
  window.CeasefireBasemap.add(map, config.map);

  var layers = {
    incidents: L.layerGroup(),
    subdistricts: L.geoJSON(null, { pane: "choropleth", style: choroplethStyle, onEachFeature: bindSubdistrict }),
    corridor: L.geoJSON(null, {
      pane: "corridor",
      style: { color: "#7a3e9d", weight: 2, dashArray: "6 4", fillColor: "#7a3e9d", fillOpacity: 0.08 }
    }),
    route: L.geoJSON(null, {
      pane: "lines",
      style: function (feature) {
        return feature.properties.kind === "patrol_route" || feature.id === "m4-patrol"
          ? { color: "#222", weight: 4 }
          : { color: "#555", weight: 2, dashArray: "2 4" };
      },
      onEachFeature: function (feature, layer) {
        var name = document.documentElement.lang === "ar" && feature.properties.name_ar
          ? feature.properties.name_ar : feature.properties.name_en;
        layer.bindTooltip(el("span", null, name || feature.id), { sticky: true });
      }
    }),
    patrols: L.geoJSON(null, {
      pane: "lines",
      style: function (feature) {
        return { color: feature.properties.status === "completed" ? "#1b7837" : "#b2182b", weight: 2, opacity: 0.7 };
      },
      onEachFeature: function (feature, layer) {
        var p = feature.properties;
        var box = el("div", "map-popup");
        box.appendChild(el("strong", null, format(strings.patrol, { d: p.date })));
        box.appendChild(el("div", null, [p.forces, p.status].join(" · ")));
        if (p.notes) box.appendChild(el("p", "popup-text", p.notes)).dir = "auto";
        layer.bindPopup(box);
      }
    }),
    camps: L.geoJSON(null, {
      pointToLayer: function (feature, latlng) {
        var people = feature.properties.population_individuals;
        return L.circleMarker(latlng, {
          pane: "places",
          radius: people ? Math.max(5, Math.sqrt(people) / 22) : 5,
          color: "#3f3f3f", weight: 1, fillColor: "#f0e442", fillOpacity: 0.75,
          className: "camp-marker"
        });
      },
      onEachFeature: function (feature, layer) {
        var p = feature.properties;
        var box = el("div", "map-popup");
        var name = document.documentElement.lang === "ar" && p.name_ar ? p.name_ar : p.name_en;
        box.appendChild(el("strong", null, name)).dir = "auto";
        box.appendChild(el("div", null, p.population_individuals
          ? format(strings.population, { n: number(p.population_individuals) }) +
            (p.population_date ? " (" + p.population_date + ")" : "")
          : strings.population_unknown));
        if (p.managing_agency) box.appendChild(el("div", "hint", p.managing_agency)).dir = "auto";
        layer.bindPopup(box);
      }
    }),
    posts: L.geoJSON(null, {
      pointToLayer: function (feature, latlng) {
        var icon = el("span", "post-symbol");
        return L.marker(latlng, {
          icon: L.divIcon({ html: icon, className: "post-icon", iconSize: [14, 14] }),
          keyboard: false
        });
      },
      onEachFeature: function (feature, layer) {
        var p = feature.properties;
        var box = el("div", "map-popup");
        var name = document.documentElement.lang === "ar" && p.name_ar ? p.name_ar : p.name_en;
        box.appendChild(el("strong", null, name)).dir = "auto";
        box.appendChild(el("div", null, [p.operator, p.code].filter(Boolean).join(" · ")));
        if (p.active_from) box.appendChild(el("div", "hint", format(strings.posts_active, { d: p.active_from })));
        layer.bindPopup(box);
      }
    })
  };

  var overlayLabels = {
    incidents: strings.incidents,
    subdistricts: strings.subdistricts,
    corridor: strings.corridor,
    route: strings.route,
    patrols: strings.patrols,
    camps: strings.camps,
    posts: strings.posts
  };
  var available = OVERLAYS.filter(function (name) { return name !== "patrols" || config.can_see_patrols; });
  var overlays = {};
  var nameOfLayer = {};
  available.forEach(function (name) {
    overlays[overlayLabels[name]] = layers[name];
    nameOfLayer[L.stamp(layers[name])] = name;
    if (state.layers.indexOf(name) !== -1) layers[name].addTo(map);
  });
  L.control.layers(null, overlays, {
    collapsed: window.matchMedia("(max-width: 50em)").matches,
    position: "topright"
  }).addTo(map);
  L.control.scale({ imperial: false }).addTo(map);

  map.on("overlayadd overlayremove", function (event) {
    var name = nameOfLayer[L.stamp(event.layer)];
    if (!name) return;
    state.layers = available.filter(function (candidate) { return map.hasLayer(layers[candidate]); });
    writeUrl();
    if (event.type === "overlayadd" && name === "incidents") scheduleIncidents();
  });

  // ---------------------------------------------------------------- the legend

  var legend = L.control({ position: "bottomright" });
  var choroplethLegend = el("div", "legend-scale");
  legend.onAdd = function () {
    var box = el("div", "map-legend leaflet-bar");
    L.DomEvent.disableClickPropagation(box);
    L.DomEvent.disableScrollPropagation(box);
    var details = el("details");
    details.open = !window.matchMedia("(max-width: 50em)").matches;
    details.appendChild(el("summary", null, strings.legend));
    var types = el("ul", "legend-types");
    config.types.forEach(function (type) {
      var item = el("li");
      var swatch = el("span", "swatch");
      swatch.style.backgroundColor = type.colour;
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(type.name));
      types.appendChild(item);
    });
    details.appendChild(el("h3", null, strings.incidents));
    details.appendChild(types);
    details.appendChild(el("h3", null, strings.subdistricts));
    details.appendChild(choroplethLegend);
    var symbols = el("ul", "legend-symbols");
    [["corridor", strings.corridor], ["route", strings.route],
      ["patrol-ok", strings.patrols], ["camp", strings.camps], ["post", strings.posts]]
      .forEach(function (pair) {
        if (pair[0] === "patrol-ok" && !config.can_see_patrols) return;
        var item = el("li");
        item.appendChild(el("span", "symbol symbol-" + pair[0]));
        item.appendChild(document.createTextNode(pair[1]));
        symbols.appendChild(item);
      });
    details.appendChild(symbols);
    box.appendChild(details);
    return box;
  };
  legend.addTo(map);

  // ---------------------------------------------------------------- incidents

  // A count as the server gave it: null is a small count withheld from this reader.
  function shownCount(count) {
    return count === null ? strings.withheld_mark : number(count);
  }

  // A cluster icon: a ring coloured by the share of each event type, with the count inside.
  // Shares are of the types whose counts are shown (withheld ones are null).
  function clusterIcon(count, types) {
    var shown = 0;
    config.types.forEach(function (type) { shown += types[type.code] || 0; });
    var total = 0;
    var stops = [];
    config.types.forEach(function (type) {
      var n = types[type.code] || 0;
      if (!n) return;
      var start = total / shown * 360;
      total += n;
      var end = total / shown * 360;
      stops.push(type.colour + " " + start.toFixed(1) + "deg " + end.toFixed(1) + "deg");
    });
    var size = count === null || count < 10 ? 30 : count < 100 ? 36 : count < 1000 ? 44 : 52;
    var ring = el("div", "cluster-ring");
    // Set through the CSSOM, which a Content-Security-Policy without 'unsafe-inline' allows.
    ring.style.background = stops.length ? "conic-gradient(" + stops.join(", ") + ")" : "#777";
    ring.appendChild(el("span", "cluster-count", count >= 10000 ? Math.round(count / 1000) + "k" : shownCount(count)));
    return L.divIcon({ html: ring, className: "incident-cluster", iconSize: [size, size] });
  }

  var points = L.markerClusterGroup({
    showCoverageOnHover: false,
    maxClusterRadius: 50,
    chunkedLoading: true,
    spiderfyOnMaxZoom: true,
    iconCreateFunction: function (cluster) {
      var types = {};
      cluster.getAllChildMarkers().forEach(function (marker) {
        types[marker.options.typeCode] = (types[marker.options.typeCode] || 0) + 1;
      });
      return clusterIcon(cluster.getChildCount(), types);
    }
  });
  var gridClusters = L.layerGroup();
  var markersById = {};

  function incidentLink(id) {
    return urls.incident_page.replace(urls.uuid_placeholder, id);
  }

  function when(p) {
    return (p.occurred_at || "").slice(0, 16).replace("T", " ");
  }

  function popupFor(id, p) {
    var box = el("div", "map-popup incident-popup");
    var type = typeByCode[p.event_type];
    var title = el("strong", null, subTypeLabel(p) || (type && type.name) || p.event_type);
    box.appendChild(title);
    box.appendChild(el("div", "hint", when(p)));
    var place = el("div", null, p.place_name || strings.no_place);
    place.dir = "auto";
    box.appendChild(place);
    if (config.can_filter_status && p.review_status) {
      box.appendChild(el("span", "status-badge status-" + p.review_status,
        config.statuses[p.review_status] || p.review_status));
    }
    if (p.location_grid_degrees) box.appendChild(el("div", "hint", strings.approximate));
    if (p.description) {
      var text = p.description.length > 240 ? p.description.slice(0, 240) + "…" : p.description;
      var description = el("p", "popup-text", text);
      description.dir = "auto";
      box.appendChild(description);
    }
    var link = el("a", "popup-link", strings.open);
    link.href = incidentLink(id);
    box.appendChild(link);
    return box;
  }

  function incidentMarker(feature) {
    var p = feature.properties;
    var coordinates = feature.geometry.coordinates;
    var type = typeByCode[p.event_type];
    // A DOM marker rather than a circle: Leaflet.markercluster's zoomToShowLayer needs an icon.
    var dot = el("span", "incident-dot");
    dot.style.backgroundColor = type ? type.colour : "#777";
    var marker = L.marker([coordinates[1], coordinates[0]], {
      icon: L.divIcon({ html: dot, className: "incident-marker", iconSize: [14, 14] }),
      title: (subTypeLabel(p) || "") + " " + when(p),
      typeCode: p.event_type
    });
    marker.bindPopup(function () { return popupFor(feature.id, p); });
    markersById[feature.id] = marker;
    return marker;
  }

  function showGridClusters(body) {
    gridClusters.clearLayers();
    body.cells.forEach(function (cell) {
      var marker = L.marker([cell.lat, cell.lon], {
        icon: clusterIcon(cell.count, cell.types),
        title: format(strings.cluster, { n: shownCount(cell.count) })
      });
      marker.on("click", function () {
        map.setView([cell.lat, cell.lon], Math.min(map.getZoom() + 2, config.map.maxZoom));
      });
      gridClusters.addLayer(marker);
    });
    layers.incidents.removeLayer(points);
    points.clearLayers();
    markersById = {};
    layers.incidents.addLayer(gridClusters);
  }

  // Markers already on the map stay (an open popup survives a pan); only the difference changes.
  function showPoints(features) {
    var wanted = {};
    var added = [];
    features.forEach(function (feature) {
      if (!feature.geometry) return;
      wanted[feature.id] = true;
      if (!markersById[feature.id]) added.push(incidentMarker(feature));
    });
    var removed = [];
    Object.keys(markersById).forEach(function (id) {
      if (!wanted[id]) {
        removed.push(markersById[id]);
        delete markersById[id];
      }
    });
    // removeLayers folds a spiderfied cluster (closing its popup): call it only when needed.
    if (removed.length) points.removeLayers(removed);
    if (added.length) points.addLayers(added);
    layers.incidents.removeLayer(gridClusters);
    layers.incidents.addLayer(points);
  }

  var countHeading = document.getElementById("incident-count");
  var listNode = document.getElementById("incident-list");

  function renderList(count, features) {
    countHeading.textContent = format(count === 1 ? strings.count_one : strings.count_many, { n: shownCount(count) });
    countHeading.setAttribute("data-count", count === null ? "" : String(count));
    listNode.textContent = "";
    if (count === 0) {
      listNode.appendChild(el("li", "empty hint", strings.none));
      return;
    }
    if (features.length < count) {
      countHeading.appendChild(el("small", "hint", " (" + format(strings.showing, { n: features.length }) + ")"));
    }
    features.forEach(function (feature) {
      var p = feature.properties;
      var type = typeByCode[p.event_type];
      var item = el("li", "incident-item");
      item.setAttribute("data-id", feature.id);
      var swatch = el("span", "swatch");
      swatch.style.backgroundColor = type ? type.colour : "#777";
      item.appendChild(swatch);
      var text = el("div", "incident-text");
      var link = el("a", "incident-link", subTypeLabel(p) || (type && type.name) || "");
      link.href = incidentLink(feature.id);
      text.appendChild(link);
      var meta = el("div", "hint");
      var time = el("time", null, when(p));
      time.dir = "ltr";
      meta.appendChild(time);
      meta.appendChild(document.createTextNode(" · "));
      // <bdi>: a place name in the other script must not reorder the line around it.
      meta.appendChild(el("bdi", null, p.place_name || strings.no_place));
      text.appendChild(meta);
      if (config.can_filter_status && p.review_status) {
        text.appendChild(el("span", "status-badge status-" + p.review_status,
          config.statuses[p.review_status] || p.review_status));
      }
      item.appendChild(text);
      var show = el("button", "show-on-map");
      show.appendChild(el("span", "crosshair"));
      show.type = "button";
      show.title = strings.show_on_map;
      show.setAttribute("aria-label", strings.show_on_map);
      show.addEventListener("click", function () {
        var marker = markersById[feature.id];
        if (marker && map.hasLayer(points)) {
          points.zoomToShowLayer(marker, function () { marker.openPopup(); });
        } else if (feature.geometry) {
          var c = feature.geometry.coordinates;
          map.setView([c[1], c[0]], Math.max(map.getZoom(), 13));
        }
      });
      item.appendChild(show);
      listNode.appendChild(item);
    });
  }

  function bboxParam() {
    var bounds = map.getBounds();
    var clamp = function (value, lo, hi) { return Math.max(lo, Math.min(hi, value)); };
    return [
      clamp(bounds.getWest(), -180, 180).toFixed(5),
      clamp(bounds.getSouth(), -90, 90).toFixed(5),
      clamp(bounds.getEast(), -180, 180).toFixed(5),
      clamp(bounds.getNorth(), -90, 90).toFixed(5)
    ].join(",");
  }

  // Follow `next` links until `limit` features (each page at most 1000: the API's cap).
  function fetchFeatures(url, limit, signal, collected) {
    collected = collected || [];
    return getJSON(url, signal).then(function (body) {
      collected = collected.concat(body.features || []);
      if (body.next && collected.length < limit) return fetchFeatures(body.next, limit, signal, collected);
      return collected;
    });
  }

  var incidentsController = null;
  var incidentsTimer = null;

  function scheduleIncidents() {
    window.clearTimeout(incidentsTimer);
    incidentsTimer = window.setTimeout(loadIncidents, DEBOUNCE_MS);
  }

  function loadIncidents() {
    if (incidentsController) incidentsController.abort();
    var controller = new AbortController();
    incidentsController = controller;
    var filters = filterParams();
    var bbox = bboxParam();
    var inView = Object.assign({ bbox: bbox }, filters);
    countHeading.setAttribute("aria-busy", "true");
    document.body.setAttribute("data-map-state", "loading");
    getJSON(urls.clusters + "?" + query(Object.assign({ zoom: map.getZoom() }, inView)), controller.signal)
      .then(function (clusters) {
        if (clusters.count <= config.point_limit) {
          var url = urls.incidents + "?" + query(Object.assign({ format: "geojson", page_size: 1000 }, inView));
          return fetchFeatures(url, config.point_limit, controller.signal).then(function (features) {
            showPoints(features);
            return { count: clusters.count, features: features.slice(0, config.list_size) };
          });
        }
        showGridClusters(clusters);
        var listUrl = urls.incidents + "?" + query(Object.assign({ format: "geojson", page_size: config.list_size }, inView));
        return getJSON(listUrl, controller.signal).then(function (body) {
          return { count: clusters.count, features: body.features };
        });
      })
      .then(function (result) {
        if (controller !== incidentsController) return;
        renderList(result.count, result.features);
        showError(false);
        countHeading.removeAttribute("aria-busy");
        document.body.setAttribute("data-map-state", "ready");
      })
      .catch(function (error) {
        if (isAbort(error)) return;
        countHeading.removeAttribute("aria-busy");
        document.body.setAttribute("data-map-state", "error");
        showError(true);
      });
  }

  // ---------------------------------------------------------------- choropleth

  var subdistrictCounts = {};
  var breaks = [];
  var CHOROPLETH = ["#fff5eb", "#fdd0a2", "#fdae6b", "#f16913", "#a63603"];
  var WITHHELD = "#bdbdbd";

  function colourFor(entry) {
    if (!entry) return null;
    if (entry.suppressed) return WITHHELD;
    for (var i = breaks.length - 1; i >= 0; i--) {
      if (entry.count >= breaks[i]) return CHOROPLETH[i];
    }
    return CHOROPLETH[0];
  }

  function choroplethStyle(feature) {
    var colour = colourFor(subdistrictCounts[feature.id]);
    return {
      color: "#8c6d4f",
      weight: 0.6,
      fillColor: colour || "#ffffff",
      fillOpacity: colour ? 0.45 : 0.05
    };
  }

  function subdistrictLabel(feature) {
    var entry = subdistrictCounts[feature.id];
    var box = el("div");
    box.appendChild(el("strong", null, config.subdistrict_names[feature.id] || feature.id)).dir = "auto";
    box.appendChild(el("div", null, !entry ? format(strings.per_subdistrict, { n: 0 })
      : entry.suppressed ? strings.withheld : format(strings.per_subdistrict, { n: number(entry.count) })));
    return box;
  }

  function bindSubdistrict(feature, layer) {
    layer.bindTooltip(function () { return subdistrictLabel(feature); }, { sticky: true });
  }

  // Five classes at quantiles of the non-zero counts, so a few hot spots do not wash out the rest.
  function computeBreaks(values) {
    var sorted = values.filter(function (n) { return n > 0; }).sort(function (a, b) { return a - b; });
    if (!sorted.length) return [1];
    var result = [];
    for (var i = 0; i < CHOROPLETH.length; i++) {
      var value = sorted[Math.floor(i / CHOROPLETH.length * sorted.length)];
      if (!result.length || value > result[result.length - 1]) result.push(value);
    }
    return result;
  }

  function renderChoroplethLegend() {
    choroplethLegend.textContent = "";
    var list = el("ul", "legend-choropleth");
    breaks.forEach(function (lower, index) {
      var upper = breaks[index + 1];
      var item = el("li");
      var swatch = el("span", "swatch");
      swatch.style.backgroundColor = CHOROPLETH[index];
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(
        upper === undefined ? number(lower) + "+" : upper - 1 > lower ? number(lower) + "–" + number(upper - 1) : number(lower)));
      list.appendChild(item);
    });
    if (config.role === "partner") {
      var withheld = el("li");
      var swatch = el("span", "swatch");
      swatch.style.backgroundColor = WITHHELD;
      withheld.appendChild(swatch);
      withheld.appendChild(document.createTextNode(strings.withheld));
      list.appendChild(withheld);
    }
    choroplethLegend.appendChild(list);
  }

  var countsController = null;

  function loadSubdistrictCounts() {
    if (countsController) countsController.abort();
    var controller = new AbortController();
    countsController = controller;
    getJSON(urls.by_subdistrict + "?" + query(filterParams()), controller.signal).then(function (body) {
      subdistrictCounts = {};
      body.results.forEach(function (row) { subdistrictCounts[row.pcode] = row; });
      breaks = computeBreaks(body.results.map(function (row) { return row.count || 0; }));
      layers.subdistricts.setStyle(choroplethStyle);
      renderChoroplethLegend();
    }).catch(function (error) {
      if (!isAbort(error)) showError(true);
    });
  }

  // ---------------------------------------------------------------- reference layers

  function loadGeoJSON(url, layer) {
    return getJSON(url).then(function (body) {
      layer.clearLayers();
      layer.addData(body);
    }).catch(function () { showError(true); });
  }

  loadGeoJSON(urls.zones + "?" + query({ kind: "subdistrict", format: "geojson", simplify: 0.005, page_size: 200 }),
    layers.subdistricts);
  loadGeoJSON(urls.zones + "?" + query({ kind: "security_corridor", format: "geojson", simplify: 0.001 }),
    layers.corridor);
  loadGeoJSON(urls.routes + "?" + query({ format: "geojson" }), layers.route);
  loadGeoJSON(urls.camps + "?" + query({ format: "geojson", page_size: 1000 }), layers.camps);
  loadGeoJSON(urls.posts + "?" + query({ format: "geojson", page_size: 1000 }), layers.posts);

  var patrolsController = null;

  // The tracks of the period's patrols, newest first, at most 200.
  function loadPatrols() {
    if (!config.can_see_patrols) return;
    if (patrolsController) patrolsController.abort();
    var controller = new AbortController();
    patrolsController = controller;
    var period = periodBounds();
    var params = { format: "geojson", page_size: 200 };
    if (period.after) params.date_after = isoDay(period.after);
    if (period.before) params.date_before = isoDay(new Date(period.before.getTime() - DAY_MS));
    getJSON(urls.patrols + "?" + query(params), controller.signal).then(function (body) {
      layers.patrols.clearLayers();
      layers.patrols.addData({
        type: "FeatureCollection",
        features: (body.features || []).filter(function (f) { return f.geometry; })
      });
    }).catch(function (error) {
      if (!isAbort(error)) showError(true);
    });
  }

  // ---------------------------------------------------------------- wiring

  function filtersChanged() {
    writeUrl();
    syncSlider();
    scheduleIncidents();
    loadSubdistrictCounts();
    loadPatrols();
  }

  form.querySelectorAll("[data-range]").forEach(function (button) {
    button.addEventListener("click", function () {
      state.range = button.getAttribute("data-range");
      state.from = "";
      state.to = "";
      stateToForm();
      filtersChanged();
    });
  });

  function onDates() {
    state.range = fromInput.value || toInput.value ? "custom" : "all";
    state.from = fromInput.value;
    state.to = toInput.value;
    stateToForm();
    filtersChanged();
  }
  fromInput.addEventListener("change", onDates);
  toInput.addEventListener("change", onDates);
  slider.addEventListener("input", function () {
    // While dragging only the label moves; the data follows when the thumb is let go.
    var end = new Date(extentFirst.getTime() + Number(slider.value) * DAY_MS);
    periodOutput.textContent = "… – " + isoDay(end);
  });
  slider.addEventListener("change", onSlider);

  form.addEventListener("change", function (event) {
    var name = event.target.name;
    if (name === "type") state.types = checked("type");
    else if (name === "status") state.statuses = checked("status");
    else if (name === "zone") state.zone = zoneSelect.value;
    else return;
    filtersChanged();
  });
  form.addEventListener("reset", function (event) {
    event.preventDefault();
    state.range = "all";
    state.from = "";
    state.to = "";
    state.types = [];
    state.statuses = [];
    state.zone = "";
    stateToForm();
    filtersChanged();
  });
  form.addEventListener("submit", function (event) { event.preventDefault(); });

  form.querySelectorAll(".swatch[data-colour]").forEach(function (swatch) {
    swatch.style.backgroundColor = swatch.getAttribute("data-colour");
  });

  map.on("moveend", function () {
    writeUrl();
    scheduleIncidents();
  });

  stateToForm();
  writeUrl();
  loadIncidents();
  loadSubdistrictCounts();
  loadPatrols();
})();
