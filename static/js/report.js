/* The field report form and My reports: what the reporter sees of the device's outbox.
 *
 * Every report gets a UUID when the form opens. On "Send" the report (and its photos) is sealed
 * and queued in the outbox (static/js/outbox.js: encrypted for the server, nothing in clear text
 * on the phone), then sent; what cannot be sent waits and goes out from any page of the site,
 * the service worker or this one, whichever runs first (static/js/app.js). A report the server
 * refuses at once stays in the form to be corrected; one refused later stays on the device with
 * the server's words, field by field. Settings and words come from the json_script
 * "report-config" (no inline script: a strict CSP); user text is only ever set with textContent.
 */
(function () {
  "use strict";

  var configElement = document.getElementById("report-config");
  if (!configElement) return;
  var config = JSON.parse(configElement.textContent);
  var M = config.messages;
  var outbox = window.CeasefireOutbox;
  var flatten = outbox.flatten;

  function fmt(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (match, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : match;
    });
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function newUuid() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    // Pages served over plain HTTP have no randomUUID; build a version 4 UUID by hand.
    var bytes = window.crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) {
      return (b + 0x100).toString(16).slice(1);
    }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20),
      hex.slice(20)].join("-");
  }

  function csrfToken() {
    // The cookie first: it follows a new sign-in in another tab, the page's copy does not.
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function clock(ms) {
    return new Date(ms).toLocaleString(config.lang, {
      day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
  }

  /* ---------------------------------------------------------------- the gazetteer on the phone */

  // The twin of zones.text.normalize_name (a browser test checks they agree): marks and letter
  // variants folded, accents and transliteration noise dropped, lower case.
  var ARABIC_MARKS = /[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]/g;
  var ARABIC_FOLD = { "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ئ": "ي", "ؤ": "و", "ة": "ه" };
  function fold(text) {
    var folded = (text || "").replace(ARABIC_MARKS, "").replace(/[أإآٱىئؤة]/g, function (ch) {
      return ARABIC_FOLD[ch];
    });
    folded = folded.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase();
    return folded.replace(/['‘’`ʿʾ-]/g, "").replace(/\s+/g, " ").trim();
  }

  var placesLoaded = null;
  function places() {
    if (!config.placesUrl) return Promise.resolve(null);
    if (!placesLoaded) {
      placesLoaded = fetch(config.placesUrl, { credentials: "same-origin",
        headers: { "Accept": "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error(String(response.status));
          return response.json();
        })
        .then(function (body) {
          var at = {};
          body.fields.forEach(function (name, i) { at[name] = i; });
          return body.places.map(function (row) {
            return { name_en: row[at.name_en], name_ar: row[at.name_ar],
              location: { coordinates: [row[at.lon], row[at.lat]] },
              key_en: row[at.key_en], key_ar: row[at.key_ar] };
          });
        })
        .catch(function () { placesLoaded = null; return null; });
    }
    return placesLoaded;
  }

  var ARABIC_LETTER = /[\u0600-\u06ff]/;
  // As LocalityQuerySet.starting_first orders them: names that start with the text first.
  function searchPlaces(all, query, limit) {
    var needle = fold(query);
    if (!needle) return [];
    var arabic = ARABIC_LETTER.test(needle);
    var found = all.filter(function (p) {
      return p.key_en.indexOf(needle) >= 0 || p.key_ar.indexOf(needle) >= 0;
    });
    found.sort(function (a, b) {
      var sa = a.key_en.indexOf(needle) === 0 || a.key_ar.indexOf(needle) === 0 ? 0 : 1;
      var sb = b.key_en.indexOf(needle) === 0 || b.key_ar.indexOf(needle) === 0 ? 0 : 1;
      if (sa !== sb) return sa - sb;
      var na = arabic ? a.name_ar : a.name_en;
      var nb = arabic ? b.name_ar : b.name_en;
      return na < nb ? -1 : na > nb ? 1 : 0;
    });
    return found.slice(0, limit);
  }

  /* ---------------------------------------------------------------- the outbox as a list */

  function fieldErrors(errors) {
    // The server's words, each after the name of its field.
    var lines = [];
    Object.keys(errors || {}).forEach(function (name) {
      if (name === "existing") return;
      var text = outbox.flatten(errors[name]);
      if (!text) return;
      var label = (config.fieldLabels || {})[name];
      lines.push(label ? label + ": " + text : text);
    });
    return lines;
  }

  function renderCount(entries) {
    var status = document.getElementById("outbox-status");
    if (!status) return;
    status.hidden = entries.length === 0 && !document.getElementById("outbox-list");
    status.textContent = entries.length ? fmt(M.outboxCount, { n: entries.length })
      : M.outboxEmpty;
    status.dataset.count = String(entries.length);
  }

  function button(text, className, action) {
    var node = el("button", className, text);
    node.type = "button";
    node.addEventListener("click", action);
    return node;
  }

  function renderOutboxList(entries) {
    var list = document.getElementById("outbox-list");
    if (!list) return;
    list.textContent = "";
    entries.forEach(function (entry) {
      var item = el("li", "report-item outbox-item");
      item.dataset.id = entry.client_uuid;
      item.dataset.state = entry.state;
      var head = el("div", "report-head");
      var label = { waiting: M.stateWaiting, failed: M.stateFailed, conflict: M.stateConflict };
      head.appendChild(el("span", "status status-" + entry.state, label[entry.state] || ""));
      head.appendChild(el("strong", null, (entry.label && entry.label.type) || ""));
      item.appendChild(head);
      var meta = fmt(M.queuedAt, { time: clock(entry.queued_at) });
      if (entry.photos && entry.photos.length) {
        meta += " · " + fmt(M.photosPending, { n: entry.photos.length });
      }
      item.appendChild(el("p", "report-meta", meta));
      item.appendChild(el("p", "report-meta small", M.sealedNote));
      if (entry.state === "failed") {
        var errors = el("ul", "error server-errors");
        fieldErrors(entry.errors).forEach(function (text) { errors.appendChild(el("li", null, text)); });
        item.appendChild(errors);
      } else if (entry.state === "conflict") {
        item.appendChild(el("p", "error", M.conflictQueued));
      }
      var actions = el("div", "outbox-actions");
      if (entry.state === "conflict") {
        actions.appendChild(button(M.sendAsNew, "secondary", function () {
          outbox.resendAsNew(entry.client_uuid, newUuid()).then(drainNow);
        }));
      } else {
        actions.appendChild(button(M.sendNow, "secondary", function () {
          outbox.retry(entry.client_uuid).then(drainNow);
        }));
      }
      actions.appendChild(button(M.discard, "link-danger", function () {
        if (window.confirm(M.confirmDiscard)) outbox.discard(entry.client_uuid).then(refreshOutbox);
      }));
      item.appendChild(actions);
      list.appendChild(item);
    });
  }

  function renderSentList(log) {
    var list = document.getElementById("device-sent-list");
    if (!list) return;
    list.textContent = "";
    log.forEach(function (row) {
      var item = el("li", "report-item");
      item.dataset.id = row.client_uuid;
      var head = el("div", "report-head");
      head.appendChild(el("span", "status status-sent", row.created ? M.stateSent : M.stateAlready));
      head.appendChild(el("strong", null, (row.label && row.label.type) || ""));
      item.appendChild(head);
      item.appendChild(el("p", "report-meta", fmt(M.queuedAt, { time: clock(row.queued_at) }) +
        " · " + fmt(M.sentAt, { time: clock(row.sent_at) })));
      list.appendChild(item);
    });
    var section = document.getElementById("device-sent");
    if (section) section.hidden = !log.length;
  }

  function refreshOutbox() {
    if (!outbox || !window.indexedDB) return Promise.resolve([]);
    return Promise.all([outbox.entries(config.user), outbox.sentLog(config.user)])
      .then(function (lists) {
        renderCount(lists[0]);
        renderOutboxList(lists[0]);
        renderSentList(lists[1]);
        return lists[0];
      }, function () { return []; });
  }

  function drainNow() {
    return window.CeasefireApp ? window.CeasefireApp.drain() : refreshOutbox();
  }

  /* ---------------------------------------------------------------- wiping the device */

  function initWipe() {
    var wipe = document.getElementById("wipe-device");
    if (!wipe) return;
    wipe.addEventListener("click", function () {
      if (!window.confirm(M.confirmWipe)) return;
      wipe.disabled = true;
      outbox.wipe().then(function () {
        var status = document.getElementById("wipe-status");
        if (status) status.textContent = M.wiped;
        // Signed out too: nothing on the phone opens the app without the password.
        var signOut = document.querySelector("form.inline-form[action$='logout/']");
        window.setTimeout(function () { if (signOut) signOut.submit(); }, 1500);
      });
    });
  }

  /* ---------------------------------------------------------------- the form */

  var form = document.getElementById("report-form");

  function initForm() {
    var statusBox = document.getElementById("form-status");
    var sendButton = document.getElementById("send-button");
    var field = function (name) { return form.elements.namedItem(name); };
    var state = { uuid: newUuid(), point: null, photos: [] };
    var map = null;
    var marker = null;

    function say(text, kind) {
      statusBox.textContent = text;
      statusBox.className = "form-status" + (kind ? " " + kind : "");
    }

    function pad(n) { return (n < 10 ? "0" : "") + n; }
    function setNow() {
      var now = new Date();
      field("occurred_at").value = now.getFullYear() + "-" + pad(now.getMonth() + 1) + "-" +
        pad(now.getDate()) + "T" + pad(now.getHours()) + ":" + pad(now.getMinutes());
    }

    /* -- the place */
    var pointStatus = document.getElementById("point-status");
    function setPoint(lat, lon, precision, zoom) {
      state.point = { lat: Math.round(lat * 1e6) / 1e6, lon: Math.round(lon * 1e6) / 1e6 };
      field("location_precision").value = precision;
      pointStatus.textContent = fmt(M.pointSet, {
        lat: state.point.lat.toFixed(5), lon: state.point.lon.toFixed(5) });
      clearError("location");
      if (map) {
        if (marker) marker.setLatLng([lat, lon]);
        else marker = window.L.circleMarker([lat, lon], {
          radius: 9, color: "#a4161a", weight: 3, fillColor: "#e5383b", fillOpacity: 0.8,
        }).addTo(map);
        if (zoom) map.setView([lat, lon], Math.max(map.getZoom(), zoom));
      }
    }

    var mapElement = document.getElementById("report-map");
    if (window.L && mapElement) {
      var extent = config.map.extent; // west, south, east, north
      map = window.L.map(mapElement, {
        center: config.map.center,
        zoom: config.map.zoom,
        minZoom: config.map.minZoom,
        maxZoom: config.map.maxZoom,
        maxBounds: [[extent[1] - 1, extent[0] - 1], [extent[3] + 1, extent[2] + 1]],
      });
      // The shared basemap: the tile server where it answers, our own reference map where it
      // does not (static/js/basemap.js); tapping the map sets the point either way.
      if (window.CeasefireBasemap) {
        window.CeasefireBasemap.add(map, config.map);
      } else if (config.map.tiles) {
        window.L.tileLayer(config.map.tiles, {
          attribution: config.map.attribution, maxZoom: config.map.maxZoom,
        }).addTo(map);
      }
      map.on("click", function (event) {
        setPoint(event.latlng.lat, event.latlng.lng, "exact");
        field("place_name").focus({ preventScroll: true });
      });
    } else if (mapElement) {
      mapElement.hidden = true;
    }

    /* -- the gazetteer */
    var search = document.getElementById("place-search");
    var suggestions = document.getElementById("place-suggestions");
    var searchTimer = null;
    var searchAbort = null;
    var options = [];
    var active = -1;

    function closeSuggestions() {
      suggestions.hidden = true;
      suggestions.textContent = "";
      search.setAttribute("aria-expanded", "false");
      search.removeAttribute("aria-activedescendant");
      options = [];
      active = -1;
    }

    function placeLabel(locality) {
      var first = config.lang === "ar" ? locality.name_ar : locality.name_en;
      var second = config.lang === "ar" ? locality.name_en : locality.name_ar;
      return { first: first || second || "", second: first ? second || "" : "" };
    }

    function choose(locality) {
      var coordinates = locality.location.coordinates;
      var names = [locality.name_en, locality.name_ar].filter(Boolean);
      field("place_name").value = names.join(" / ");
      search.value = placeLabel(locality).first;
      closeSuggestions();
      setPoint(coordinates[1], coordinates[0], "town", 12);
    }

    function highlight(index) {
      options.forEach(function (option, i) {
        option.node.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      active = index;
      if (index >= 0) search.setAttribute("aria-activedescendant", options[index].node.id);
    }

    function showSuggestions(results) {
      suggestions.textContent = "";
      options = [];
      active = -1;
      if (!results.length) {
        suggestions.appendChild(el("li", "suggestion-empty", M.noMatch));
      }
      results.forEach(function (locality, i) {
        var label = placeLabel(locality);
        var option = el("li", "suggestion");
        option.id = "place-option-" + i;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.appendChild(el("span", "suggestion-main", label.first));
        if (label.second) option.appendChild(el("span", "suggestion-other", label.second));
        option.addEventListener("mousedown", function (event) { event.preventDefault(); });
        option.addEventListener("click", function () { choose(locality); });
        options.push({ node: option, locality: locality });
        suggestions.appendChild(option);
      });
      suggestions.hidden = false;
      search.setAttribute("aria-expanded", "true");
    }

    function runSearch() {
      var query = search.value.trim();
      if (searchAbort) searchAbort.abort();
      if (query.length < 2) { closeSuggestions(); return; }
      places().then(function (all) {
        if (all) { showSuggestions(searchPlaces(all, query, 8)); return null; }
        // No gazetteer file on this device yet: ask the server.
        searchAbort = window.AbortController ? new AbortController() : null;
        var url = config.localitiesUrl + "?page_size=8&q=" + encodeURIComponent(query);
        return fetch(url, {
          credentials: "same-origin",
          headers: { "Accept": "application/json" },
          signal: searchAbort ? searchAbort.signal : undefined,
        }).then(function (response) {
          if (!response.ok) throw new Error(String(response.status));
          return response.json();
        }).then(function (body) {
          showSuggestions(body.results || []);
        });
      }).catch(function (error) {
        if (error && error.name === "AbortError") return;
        suggestions.textContent = "";
        suggestions.appendChild(el("li", "suggestion-empty", M.searchFail));
        suggestions.hidden = false;
      });
    }

    search.addEventListener("input", function () {
      window.clearTimeout(searchTimer);
      searchTimer = window.setTimeout(runSearch, 250);
    });
    search.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" && options.length) {
        event.preventDefault();
        highlight((active + 1) % options.length);
      } else if (event.key === "ArrowUp" && options.length) {
        event.preventDefault();
        highlight((active - 1 + options.length) % options.length);
      } else if (event.key === "Enter") {
        event.preventDefault(); // never submit the report from the search box
        if (active >= 0) choose(options[active].locality);
        else if (options.length === 1) choose(options[0].locality);
      } else if (event.key === "Escape") {
        closeSuggestions();
      }
    });
    search.addEventListener("blur", function () { window.setTimeout(closeSuggestions, 200); });

    /* -- GPS */
    document.getElementById("gps-button").addEventListener("click", function () {
      if (!navigator.geolocation) { pointStatus.textContent = M.gpsNone; return; }
      pointStatus.textContent = M.gpsWait;
      navigator.geolocation.getCurrentPosition(function (position) {
        setPoint(position.coords.latitude, position.coords.longitude, "exact", 13);
        pointStatus.textContent += " " + fmt(M.gpsDone,
          { m: Math.round(position.coords.accuracy) });
      }, function (error) {
        pointStatus.textContent = fmt(M.gpsFail, { reason: error.message || error.code });
      }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
    });

    /* -- type and sub-type */
    var eventType = field("event_type");
    var subType = field("sub_event_type");
    var placeholder = subType.options[0].textContent;
    eventType.addEventListener("change", function () {
      subType.textContent = "";
      var chosen = config.taxonomy.filter(function (t) { return t.slug === eventType.value; })[0];
      subType.appendChild(new Option(chosen ? M.chooseSubtype : placeholder, ""));
      (chosen ? chosen.sub_types : []).forEach(function (sub) {
        subType.appendChild(new Option(sub.name, sub.slug));
      });
      subType.disabled = !chosen;
      if (chosen && chosen.sub_types.length === 1) subType.value = chosen.sub_types[0].slug;
    });

    /* -- photos */
    var photoInput = field("photos");
    var photoList = document.getElementById("photo-list");
    function renderPhotos() {
      photoList.textContent = "";
      state.photos.forEach(function (photo, index) {
        var item = el("li", "photo-item");
        item.appendChild(el("span", null, photo.name + " (" +
          Math.max(1, Math.round(photo.blob.size / 1024)) + " kB)"));
        var remove = el("button", "link-danger", "×");
        remove.type = "button";
        remove.setAttribute("aria-label", M.discard + " " + photo.name);
        remove.addEventListener("click", function () {
          state.photos.splice(index, 1);
          renderPhotos();
        });
        item.appendChild(remove);
        photoList.appendChild(item);
      });
    }
    photoInput.addEventListener("change", function () {
      var problems = [];
      var files = Array.prototype.slice.call(photoInput.files || []);
      Promise.all(files.map(function (file) {
        if (config.photo.types.indexOf(file.type) < 0) {
          problems.push(fmt(M.photoType, { name: file.name }));
          return null;
        }
        if (file.size > config.photo.maxBytes) {
          problems.push(fmt(M.photoTooBig, { name: file.name, mb: config.photo.maxBytes / 1048576 }));
          return null;
        }
        // A copy of the bytes (sealed when queued), so the photo survives the file going away.
        return file.arrayBuffer().then(function (buffer) {
          state.photos.push({ name: file.name, blob: new Blob([buffer], { type: file.type }) });
        });
      })).then(function () {
        photoInput.value = "";
        renderPhotos();
        showError("file", problems.join(" "));
      });
    });

    /* -- validation and errors */
    function clearError(name) {
      var box = form.querySelector('[data-error-for="' + name + '"]');
      if (box) box.textContent = "";
      var input = field(name);
      if (input && input.removeAttribute) input.removeAttribute("aria-invalid");
    }
    function clearErrors() {
      Array.prototype.forEach.call(form.querySelectorAll("[data-error-for]"), function (box) {
        box.textContent = "";
      });
      Array.prototype.forEach.call(form.querySelectorAll("[aria-invalid]"), function (input) {
        input.removeAttribute("aria-invalid");
      });
    }
    function showError(name, message) {
      var box = form.querySelector('[data-error-for="' + name + '"]') ||
        form.querySelector('[data-error-for="non_field_errors"]');
      box.textContent = (box.textContent ? box.textContent + " " : "") + message;
      var input = field(name);
      if (input && input.setAttribute && message) input.setAttribute("aria-invalid", "true");
      return box;
    }
    function showErrors(errors) {
      var first = null;
      Object.keys(errors || {}).forEach(function (name) {
        var box = showError(name === "detail" ? "non_field_errors" : name, flatten(errors[name]));
        if (!first) first = box;
      });
      if (first) first.scrollIntoView({ block: "center" });
    }

    function integer(name, fallback) {
      var raw = field(name).value.trim();
      if (raw === "") return fallback;
      var number = Number(raw);
      return Number.isFinite(number) ? Math.trunc(number) : raw;
    }

    function payload() {
      var problems = {};
      if (!state.point) problems.location = M.noPoint;
      if (!field("sub_event_type").value) problems.sub_event_type = M.noType;
      var when = field("occurred_at").value ? new Date(field("occurred_at").value) : null;
      if (!when || isNaN(when.getTime())) problems.occurred_at = M.noTime;
      else if (when < new Date(config.occurredMin)) problems.occurred_at = M.tooEarly;
      if (Object.keys(problems).length) { showErrors(problems); return null; }
      return {
        occurred_at: when.toISOString(),
        time_precision: field("time_precision").value,
        location: { type: "Point", coordinates: [state.point.lon, state.point.lat] },
        location_precision: field("location_precision").value,
        place_name: field("place_name").value.trim(),
        sub_event_type: field("sub_event_type").value,
        weapon: field("weapon").value,
        observation_method: field("observation_method").value,
        explosions_count: integer("explosions_count", null),
        direction: field("direction").value,
        distance_estimate_m: integer("distance_estimate_m", null),
        perpetrator_side: field("perpetrator_side").value,
        target: field("target").value,
        target_description: field("target_description").value.trim(),
        killed_civilians: integer("killed_civilians", 0),
        killed_combatants: integer("killed_combatants", 0),
        injured_civilians: integer("injured_civilians", 0),
        injured_combatants: integer("injured_combatants", 0),
        description: field("description").value.trim(),
        sources: field("sources").value.split("\n").map(function (line) { return line.trim(); })
          .filter(Boolean),
      };
    }

    function resetForm() {
      form.reset();
      state = { uuid: newUuid(), point: null, photos: [] };
      if (marker) { marker.remove(); marker = null; }
      pointStatus.textContent = "";
      subType.disabled = true;
      renderPhotos();
      setNow();
    }

    // The report the form queued last: its status line follows it until it has gone.
    var lastQueued = null;

    function afterAttempt(id, summary) {
      return Promise.all([outbox.entries(config.user), outbox.sentLog(config.user)])
        .then(function (lists) {
          var entry = lists[0].filter(function (e) { return e.client_uuid === id; })[0];
          var sent = lists[1].filter(function (row) { return row.client_uuid === id; })[0];
          return { entry: entry, sent: sent, summary: summary || {} };
        });
    }

    function sayQueued(reason) {
      if (reason === "auth") say(M.signin, "queued");
      else say(reason === "offline" || !navigator.onLine ? M.queued : M.queuedServer, "queued");
    }

    function saySent(sent) {
      var text = (sent.created ? M.sent : M.already) + " " +
        fmt(M.sentAt, { time: new Date(sent.sent_at).toLocaleTimeString(config.lang) });
      if (sent.photo_errors && sent.photo_errors.length) {
        text += " " + fmt(M.photoRefused, { reason: sent.photo_errors.join(" ") });
      }
      say(text, "ok");
    }

    if (window.CeasefireApp) {
      window.CeasefireApp.onChange(function (summary) {
        if (!lastQueued) return;
        afterAttempt(lastQueued, summary).then(function (fate) {
          if (fate.sent) { lastQueued = null; saySent(fate.sent); }
          else if (fate.entry && fate.entry.state !== "waiting") {
            lastQueued = null;
            say(M.refusedQueued, "error");
          } else if (fate.entry && summary && summary.reason) {
            sayQueued(summary.reason);
          }
        });
      });
    }

    function submitSealed(data) {
      var entry = {
        client_uuid: state.uuid,
        user: config.user,
        payload: data,
        photos: state.photos.slice(),
        label: { type: subType.options[subType.selectedIndex].textContent },
        queued_at: Date.now(),
      };
      return outbox.enqueue(entry, config.sealing).then(function () {
        var app = window.CeasefireApp;
        // A drain already under way may have started before this report was queued.
        return app.drain().then(function (summary) {
          return afterAttempt(entry.client_uuid, summary);
        }).then(function (fate) {
          if (fate.entry && fate.entry.state === "waiting" && !fate.summary.reason) {
            return app.drain().then(function (summary) {
              return afterAttempt(entry.client_uuid, summary);
            });
          }
          return fate;
        });
      }).then(function (fate) {
        if (fate.sent) {
          resetForm();
          saySent(fate.sent);
        } else if (fate.entry && fate.entry.state !== "waiting") {
          // Refused at once: the form still holds the report, so it leaves the outbox and the
          // reporter corrects it here.
          return outbox.discard(entry.client_uuid).then(function () {
            if (fate.entry.state === "conflict") {
              state.uuid = newUuid();
              say(M.conflict, "error");
            } else {
              say(M.fix, "error");
              showErrors(fate.entry.errors);
            }
          });
        } else {
          lastQueued = entry.client_uuid;
          resetForm();
          sayQueued(fate.summary.reason);
        }
        return null;
      });
    }

    // Without WebCrypto (a page not served over HTTPS) or IndexedDB nothing may wait on the
    // device in clear text: the report is sent now or stays in the form.
    function submitDirect(data) {
      var body = Object.assign({ client_uuid: state.uuid }, data);
      return fetch(config.submitUrl, {
        method: "POST", credentials: "same-origin",
        headers: { "Accept": "application/json", "Content-Type": "application/json",
          "X-CSRFToken": csrfToken() },
        body: JSON.stringify(body),
      }).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (json) {
          if (response.status === 201 || response.status === 200) {
            resetForm();
            say(response.status === 201 ? M.sent : M.already, "ok");
          } else if (response.status === 400) {
            say(M.fix, "error");
            showErrors(json);
          } else if (response.status === 409) {
            state.uuid = newUuid();
            say(M.conflict, "error");
          } else {
            say(M.cannotQueue, "error");
          }
        });
      }, function () { say(M.cannotQueue, "error"); });
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      clearErrors();
      var data = payload();
      if (!data) return;
      sendButton.disabled = true;
      say(M.saving);
      var sealed = outbox.canSeal() && config.sealing && window.CeasefireApp;
      (sealed ? submitSealed(data) : submitDirect(data))
        .catch(function () { say(M.notSaved, "error"); })
        .then(function () {
          sendButton.disabled = false;
          statusBox.focus({ preventScroll: false });
          return refreshOutbox();
        });
    });

    setNow();
  }

  /* ---------------------------------------------------------------- start */

  var form = document.getElementById("report-form");
  if (form) initForm();
  initWipe();
  if (window.CeasefireApp) {
    window.CeasefireApp.onChange(function (summary) {
      refreshOutbox();
      // On "My reports" a report that just went through belongs in the server's list: the page
      // comes again from the server (also when it was the copy kept for offline use).
      var list = document.getElementById("my-report-list-section");
      if (!form && list && summary && summary.sent && summary.sent.length) {
        window.CeasefireApp.carryAnnouncements();
        window.location.reload();
      }
    });
    // Reports queued in clear text by the version before sealing are sealed now, then sent.
    window.CeasefireApp.ready.then(function () {
      if (!config.sealing || !outbox.canSeal()) return 0;
      return outbox.migrateLegacy(config.user, config.sealing).catch(function () { return 0; });
    }).then(function (moved) { return moved ? drainNow() : refreshOutbox(); });
  } else {
    refreshOutbox();
  }
  window.CeasefireReport = { fold: fold, searchPlaces: searchPlaces, places: places };
})();
