/* The reporters' service worker (fieldapp.views.service_worker renders this file).
 *
 * - Keeps the app shell (the report form, My reports without its server list, their scripts,
 *   styles, icons, the gazetteer file) and serves it when the network fails or stalls.
 * - Never answers or replays a write: submissions stay with the outbox (js/outbox.js), which this
 *   worker only drains (Background Sync, activation, a page's request).
 * - Caches the offline basemap's tiles for the project's area.
 * - A new version (a digest of every cached file) takes over at once and purges the old caches;
 *   the outbox lives in IndexedDB, apart from any version, so queued reports still go out.
 */
"use strict";

const CONFIG = {{ config_json|safe }};
importScripts(CONFIG.outboxScript);

const SHELL = "shell-" + CONFIG.version;
const STATIC = "static-" + CONFIG.version;
const BASEMAP_PREFIX = "basemap-";
const NETWORK_TIMEOUT_MS = 6000;
const PRECACHE_PARALLEL = 4;

function pageResponseOk(response) {
  // A redirect (to the sign-in page) or an error is not the page: keep the copy we have.
  return response && response.ok && !response.redirected && response.type === "basic";
}

async function cachePages(cache) {
  const previous = (await caches.keys()).filter(function (name) {
    return name.startsWith("shell-") && name !== SHELL;
  });
  for (const [key, url] of Object.entries(CONFIG.pages)) {
    let response = null;
    try {
      response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
    } catch (error) {
      response = null;
    }
    if (pageResponseOk(response)) {
      await cache.put(key, response);
      continue;
    }
    // Signed out or offline while updating: carry the page over from the version before.
    for (const name of previous) {
      const old = await (await caches.open(name)).match(key);
      if (old) { await cache.put(key, old); break; }
    }
  }
}

self.addEventListener("install", function (event) {
  event.waitUntil((async function () {
    const staticCache = await caches.open(STATIC);
    await staticCache.addAll(CONFIG.static.map(function (url) {
      return new Request(url, { cache: "reload" });
    }));
    await cachePages(await caches.open(SHELL));
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", function (event) {
  event.waitUntil((async function () {
    const names = await caches.keys();
    await Promise.all(names.filter(function (name) {
      return name !== SHELL && name !== STATIC && !name.startsWith(BASEMAP_PREFIX);
    }).map(function (name) { return caches.delete(name); }));
    await self.clients.claim();
    await drain().catch(function () { return null; });
  })());
});

/* ------------------------------------------------------------------ answering */

function timeout(ms) {
  return new Promise(function (resolve, reject) {
    setTimeout(function () { reject(new Error("timeout")); }, ms);
  });
}

async function fromCache(key) {
  return caches.match(key, { ignoreSearch: true, ignoreVary: true });
}

async function offlinePage() {
  return (await fromCache(CONFIG.offlineUrl)) ||
    new Response("Offline", { status: 503, headers: { "Content-Type": "text/plain" } });
}

async function navigate(event) {
  const url = new URL(event.request.url);
  const shellKey = url.search === "" && CONFIG.pages[url.pathname] ? url.pathname : null;
  const network = fetch(event.request);
  if (shellKey) {
    // Keep the copy fresh whenever the network answers, even after we answered from the cache.
    event.waitUntil(network.then(async function (response) {
      if (!pageResponseOk(response)) return;
      const cache = await caches.open(SHELL);
      if (CONFIG.pages[shellKey] === shellKey) {
        await cache.put(shellKey, response.clone());
      } else {
        const copy = await fetch(CONFIG.pages[shellKey], { credentials: "same-origin" });
        if (pageResponseOk(copy)) await cache.put(shellKey, copy);
      }
    }).catch(function () { return null; }));
  }
  try {
    const response = await Promise.race([network, timeout(NETWORK_TIMEOUT_MS)]);
    return shellKey ? response.clone() : response;
  } catch (error) {
    if (shellKey) {
      const cached = await fromCache(shellKey);
      if (cached) return cached;
    }
    return offlinePage();
  }
}

async function cacheFirst(request, cacheName) {
  const cached = await caches.match(request, { ignoreVary: true });
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok && response.type === "basic") {
    (await caches.open(cacheName)).put(request, response.clone());
  }
  return response;
}

async function staleWhileRevalidate(event, key) {
  const cache = await caches.open(SHELL);
  const cached = await cache.match(key, { ignoreVary: true });
  const network = fetch(event.request).then(function (response) {
    if (pageResponseOk(response)) cache.put(key, response.clone());
    return response;
  });
  if (cached) {
    event.waitUntil(network.catch(function () { return null; }));
    return cached;
  }
  return network;
}

function basemapCacheName() {
  return caches.keys().then(function (names) {
    return names.filter(function (name) { return name.startsWith(BASEMAP_PREFIX); })[0] ||
      BASEMAP_PREFIX + "runtime";
  });
}

self.addEventListener("fetch", function (event) {
  const request = event.request;
  // Writes go to the network as the page sent them; this worker never answers or replays one.
  if (request.method !== "GET") return;
  // Byte ranges (an office's PMTiles file) go to the network: a 206 cannot be cached whole.
  if (request.headers.has("range")) return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    event.respondWith(navigate(event));
  } else if (url.pathname === CONFIG.placesUrl) {
    event.respondWith(staleWhileRevalidate(event, CONFIG.placesUrl));
  } else if (url.pathname.startsWith(CONFIG.staticPrefix)) {
    event.respondWith(cacheFirst(request, STATIC));
  } else if (CONFIG.basemapPrecacheUrl && url.pathname.startsWith("/basemap/") &&
             url.pathname !== CONFIG.basemapPrecacheUrl) {
    event.respondWith(basemapCacheName().then(function (name) {
      return cacheFirst(request, name);
    }));
  }
  // Everything else (the API, other pages' data) goes to the network only.
});

/* ------------------------------------------------------------------ the outbox */

async function drain() {
  const meta = await self.CeasefireOutbox.getMeta();
  if (!meta.user) return null;
  const summary = await self.CeasefireOutbox.flush(Object.assign({}, CONFIG.outbox, {
    user: meta.user, csrf: meta.csrf,
  }));
  return summary;
}

self.addEventListener("sync", function (event) {
  if (event.tag !== "outbox") return;
  event.waitUntil(drain().then(function (summary) {
    // Rejecting asks the browser to try this sync again later (with its own backoff).
    if (summary && summary.waiting && summary.reason !== "auth") {
      throw new Error("reports still waiting: " + summary.reason);
    }
  }));
});

/* ------------------------------------------------------------------ the basemap */

async function precacheBasemap() {
  if (!CONFIG.basemapPrecacheUrl) return;
  const meta = await self.CeasefireOutbox.getMeta();
  const listing = await (await fetch(CONFIG.basemapPrecacheUrl)).json();
  const name = BASEMAP_PREFIX + listing.version;
  if (meta.basemapCached === name) return;
  const cache = await caches.open(name);
  const urls = listing.urls.slice();
  async function worker() {
    while (urls.length) {
      const url = urls.shift();
      if (await cache.match(url)) continue;
      const response = await fetch(url);
      if (response.ok) await cache.put(url, response);
    }
  }
  const workers = [];
  for (let i = 0; i < PRECACHE_PARALLEL; i += 1) workers.push(worker());
  await Promise.all(workers);
  const names = await caches.keys();
  await Promise.all(names.filter(function (other) {
    return other.startsWith(BASEMAP_PREFIX) && other !== name;
  }).map(function (other) { return caches.delete(other); }));
  await self.CeasefireOutbox.setMeta({ basemapCached: name });
}

self.addEventListener("message", function (event) {
  const data = event.data || {};
  if (data.type === "drain") event.waitUntil(drain().catch(function () { return null; }));
  if (data.type === "warm") {
    event.waitUntil(precacheBasemap().catch(function () { return null; }));
  }
});
