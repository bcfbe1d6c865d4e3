/* The basemap of every map: window.CeasefireBasemap.add(map, config), with `config` as
   common.maps.map_config() builds it.

   - MAP_TILES_URL set (config.tiles): its raster tiles, and beneath them the vector reference
     basemap (our own tiles of admin areas, localities, the M4, the corridor and camps) as soon as
     the raster tiles cannot be reached: the browser is offline, or no raster tile has loaded
     within config.basemap.fallbackMs of a request or an error.
   - MAP_TILES_URL empty (closed networks): the reference basemap alone.
   - BASEMAP_PMTILES_URL set (config.basemap.pmtilesUrl): an OpenStreetMap extract (Protomaps
     basemap layers) drawn by the same library in place of the reference basemap's land and
     villages, with the reference areas, corridor and camps over it.

   Drawn on canvas by protomaps-leaflet (static/vendor). Labels follow the page's language:
   Arabic names first for "ar", Latin first otherwise, each falling back to the other. The client
   reads the tiles up to config.basemap.maxDataZoom (the zoom a phone keeps offline) and enlarges
   them above, so what works online works offline. add() returns { raster, vector: [layers] }
   and marks the map's container data-basemap="raster", "vector" or "raster+vector". */
(function () {
  "use strict";

  var FONT = 'system-ui, "Noto Sans", "Noto Sans Arabic", sans-serif';
  var OUTSIDE = "#dfe4e8"; // beyond the monitored area (other countries, the sea)
  var LAND = "#f6f3ec";
  var INK = "#333333";
  var HALO = "#ffffff";
  var AREA_INK = "#7d6a55";
  var CORRIDOR = "#7a3e9d";
  var ROAD = "#d9822b";
  var CAMP = "#f0e442";
  // Boundary widths (CSS pixels) by level: governorate, district, sub-district.
  var BOUNDARY = { 1: ["#6f5b45", 1.6], 2: ["#947b5e", 1.0], 3: ["#bfae97", 0.6] };

  function arabic() {
    return (document.documentElement.lang || "").slice(0, 2) === "ar";
  }

  function names() {
    return arabic() ? ["name_ar", "name_en"] : ["name_en", "name_ar"];
  }

  function font(weight, size) {
    return weight + " " + size + "px " + FONT;
  }

  function byKind(kind) {
    return function (z, f) { return f.props.kind === kind; };
  }

  function byLevel(level) {
    return function (z, f) { return f.props.level === level; };
  }

  function byRank(rank) {
    return function (z, f) { return f.props.rank === rank; };
  }

  function text(P, options) {
    return new P.OffsetTextSymbolizer(Object.assign({
      labelProps: names(), fill: INK, stroke: HALO, width: 1.5, offsetX: 5, offsetY: 4
    }, options));
  }

  function areaText(P, weight, size) {
    return new P.CenteredTextSymbolizer({
      labelProps: names(), fill: AREA_INK, stroke: HALO, width: 1.5, font: font(weight, size),
      lineHeight: 1.3, maxLineChars: 18
    });
  }

  function rule(dataLayer, symbolizer, extra) {
    return Object.assign({ dataLayer: dataLayer, symbolizer: symbolizer }, extra);
  }

  // The reference layers. `over` (a PMTiles extract beneath): no land, road or villages of ours.
  function rules(P, over) {
    var road = { filter: byKind("highway") };
    var paint = [];
    if (!over) paint.push(rule("subdistricts", new P.PolygonSymbolizer({ fill: LAND })));
    paint.push(rule("corridor", new P.PolygonSymbolizer({ fill: CORRIDOR, opacity: 0.1 })));
    [3, 2, 1].forEach(function (level) {
      paint.push(rule("boundaries", new P.LineSymbolizer({
        color: BOUNDARY[level][0],
        width: function (z) { return BOUNDARY[level][1] * (z >= 11 ? 1.5 : 1); }
      }), { filter: byLevel(level) }));
    });
    paint.push(rule("corridor", new P.LineSymbolizer({ color: CORRIDOR, width: 1.2, dash: [6, 4] })));
    if (!over) {
      paint.push(rule("m4", new P.LineSymbolizer({
        color: HALO, width: function (z) { return z >= 10 ? 6 : 4; }
      }), road));
      paint.push(rule("m4", new P.LineSymbolizer({
        color: ROAD, width: function (z) { return z >= 10 ? 3.5 : 2; }
      }), road));
      paint.push(rule("localities", new P.CircleSymbolizer({
        radius: function (z, f) { return f.props.rank === 1 ? 3 : f.props.rank === 2 ? 2.2 : 1.6; },
        fill: "#5b5b5b", stroke: HALO, width: 1
      })));
    }
    paint.push(rule("camps", new P.CircleSymbolizer({
      radius: 4, fill: CAMP, stroke: "#3f3f3f", width: 1
    })));

    // Earlier rules place their labels first: towns before area names before villages.
    var labels = [];
    if (!over) labels.push(rule("localities", text(P, { font: font(600, 13) }), { filter: byRank(1) }));
    labels.push(rule("area_labels", areaText(P, 600, 13), { filter: byKind("governorate"), maxzoom: 8 }));
    if (!over) {
      labels.push(rule("m4", new P.LineLabelSymbolizer({
        labelProps: ["ref"], fill: INK, stroke: HALO, width: 3, font: font(700, 11)
      }), road));
      labels.push(rule("localities", text(P, { font: font(500, 12) }), { filter: byRank(2) }));
    }
    labels.push(rule("area_labels", areaText(P, 500, 12), {
      filter: byKind("district"), minzoom: 9, maxzoom: 10
    }));
    labels.push(rule("camps", text(P, { font: font(400, 11), offsetX: 7 }), { minzoom: 10 }));
    labels.push(rule("area_labels", areaText(P, 400, 11), {
      filter: byKind("subdistrict"), minzoom: 11
    }));
    if (!over) labels.push(rule("localities", text(P, { font: font(400, 11) }), { filter: byRank(3) }));
    return { paint: paint, labels: labels };
  }

  function vectorLayers(P, basemap) {
    var layers = [];
    var over = Boolean(basemap.pmtilesUrl);
    if (over) {
      layers.push(P.leafletLayer({
        url: basemap.pmtilesUrl, flavor: "light", lang: arabic() ? "ar" : "en",
        attribution: basemap.pmtilesAttribution, zIndex: 1, className: "basemap-pmtiles"
      }));
    }
    var style = rules(P, over);
    layers.push(P.leafletLayer({
      url: basemap.url,
      levelDiff: 0,
      maxDataZoom: basemap.maxDataZoom,
      paintRules: style.paint,
      labelRules: style.labels,
      backgroundColor: over ? undefined : OUTSIDE,
      attribution: basemap.attribution,
      zIndex: 2,
      className: "basemap-reference"
    }));
    layers.forEach(function (layer) {
      // Canvas text takes the page's direction: in an Arabic page it would be drawn leftwards
      // of the place the library measured it from. The shaping of Arabic is the browser's.
      layer.on("tileloadstart", function (event) { event.tile.dir = "ltr"; });
    });
    return layers;
  }

  function mark(map, state) {
    map.getContainer().setAttribute("data-basemap", state);
  }

  function add(map, config) {
    var basemap = (config && config.basemap) || {};
    var P = window.protomapsL;
    var drawn = { raster: null, vector: [] };

    function drawVector() {
      if (drawn.vector.length || !P || !basemap.url) return;
      drawn.vector = vectorLayers(P, basemap);
      drawn.vector.forEach(function (layer) { layer.addTo(map); });
      mark(map, drawn.raster ? "raster+vector" : "vector");
    }

    if (!config || !config.tiles) {
      drawVector();
      return drawn;
    }
    var raster = L.tileLayer(config.tiles, {
      attribution: config.attribution,
      maxZoom: config.tilesMaxZoom || config.maxZoom,
      zIndex: 3
    });
    drawn.raster = raster;
    var loads = 0;
    var timer = null;
    function watch() {
      if (timer || drawn.vector.length) return;
      var before = loads;
      timer = window.setTimeout(function () {
        timer = null;
        if (loads === before) drawVector();
      }, basemap.fallbackMs || 4000);
    }
    raster.on("tileload", function () { loads += 1; });
    raster.on("tileloadstart tileerror", watch);
    window.addEventListener("offline", drawVector);
    raster.addTo(map);
    mark(map, "raster");
    if (navigator.onLine === false) drawVector();
    return drawn;
  }

  window.CeasefireBasemap = { add: add };
})();
