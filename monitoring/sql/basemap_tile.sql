-- One tile of the reference basemap (monitoring/basemap.py): public reference data only, never
-- an incident. Each layer is clipped to the tile by ST_AsMVTGeom; areas and lines are first
-- simplified to a fraction of a pixel at this zoom (the tolerance, in metres), over the
-- whole geometry so that neighbouring tiles meet. Every table is read through its GiST index with
-- `&& box` (the tile and its buffer, in WGS84). An empty name is left out (NULL), so that the
-- client's label falls back to the name in the other script.
WITH tile AS (
    SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS envelope,
           ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => %(margin)s), 4326) AS box
),
areas AS (
    SELECT zone.kind, zone.pcode, zone.name_en, zone.name_ar, zone.geom,
           ST_Simplify(ST_Transform(zone.geom, 3857), %(tolerance)s) AS shape
    FROM {zones} AS zone, tile
    WHERE zone.geom && tile.box AND zone.kind = ANY(%(admin_kinds)s)
),
subdistricts AS (
    SELECT area.pcode, nullif(area.name_en, '') AS name_en, nullif(area.name_ar, '') AS name_ar,
           ST_AsMVTGeom(area.shape, tile.envelope, %(extent)s, %(buffer)s, true) AS geom
    FROM areas AS area, tile
    WHERE area.kind = %(subdistrict)s
),
boundaries AS (
    SELECT array_position(%(admin_kinds)s, area.kind::text) AS level, area.pcode,
           ST_AsMVTGeom(ST_Boundary(area.shape), tile.envelope, %(extent)s, %(buffer)s, true)
               AS geom
    FROM areas AS area, tile
),
area_labels AS (
    SELECT area.kind, area.pcode, nullif(area.name_en, '') AS name_en,
           nullif(area.name_ar, '') AS name_ar,
           ST_AsMVTGeom(ST_Transform(ST_PointOnSurface(area.geom), 3857), tile.envelope,
                        %(extent)s, %(buffer)s, true) AS geom
    FROM areas AS area, tile
),
localities AS (
    SELECT nullif(locality.name_en, '') AS name_en, nullif(locality.name_ar, '') AS name_ar,
           coalesce(seat.rank, %(other_rank)s) AS rank,
           ST_AsMVTGeom(ST_Transform(locality.location, 3857), tile.envelope, %(extent)s,
                        %(buffer)s, true) AS geom
    FROM tile, {localities} AS locality
    LEFT JOIN unnest(%(seat_ids)s::bigint[], %(seat_ranks)s::int[]) AS seat (id, rank)
        ON seat.id = locality.id
    WHERE locality.location && tile.box
      AND coalesce(seat.rank, %(other_rank)s) <= %(max_rank)s
    ORDER BY rank, locality.id
),
corridor AS (
    SELECT zone.pcode, nullif(zone.name_en, '') AS name_en, nullif(zone.name_ar, '') AS name_ar,
           ST_AsMVTGeom(ST_Simplify(ST_Transform(zone.geom, 3857), %(tolerance)s),
                        tile.envelope, %(extent)s, %(buffer)s, true) AS geom
    FROM {zones} AS zone, tile
    WHERE zone.geom && tile.box AND zone.kind = %(corridor_kind)s
),
m4 AS (
    SELECT route.slug, route.kind, nullif(route.name_en, '') AS name_en,
           nullif(route.name_ar, '') AS name_ar, 'M4' AS ref,
           ST_AsMVTGeom(ST_Simplify(ST_Transform(route.geom, 3857), %(tolerance)s),
                        tile.envelope, %(extent)s, %(buffer)s, true) AS geom
    FROM {routes} AS route, tile
    WHERE route.geom && tile.box
),
camps AS (
    SELECT camp.site_id, nullif(camp.name_en, '') AS name_en, nullif(camp.name_ar, '') AS name_ar,
           camp.camp_type,
           ST_AsMVTGeom(ST_Transform(camp.location, 3857), tile.envelope, %(extent)s,
                        %(buffer)s, true) AS geom
    FROM {camps} AS camp, tile
    WHERE camp.location && tile.box
)
SELECT coalesce((SELECT ST_AsMVT(layer, 'subdistricts', %(extent)s, 'geom')
                 FROM subdistricts AS layer WHERE geom IS NOT NULL), '')
    || coalesce((SELECT ST_AsMVT(layer, 'boundaries', %(extent)s, 'geom')
                 FROM boundaries AS layer WHERE geom IS NOT NULL), '')
    || coalesce((SELECT ST_AsMVT(layer, 'corridor', %(extent)s, 'geom')
                 FROM corridor AS layer WHERE geom IS NOT NULL), '')
    || coalesce((SELECT ST_AsMVT(layer, 'm4', %(extent)s, 'geom')
                 FROM m4 AS layer WHERE geom IS NOT NULL), '')
    || coalesce((SELECT ST_AsMVT(layer, 'camps', %(extent)s, 'geom')
                 FROM camps AS layer WHERE geom IS NOT NULL), '')
    || coalesce((SELECT ST_AsMVT(layer, 'area_labels', %(extent)s, 'geom')
                 FROM area_labels AS layer WHERE geom IS NOT NULL), '')
    || coalesce((SELECT ST_AsMVT(layer, 'localities', %(extent)s, 'geom')
                 FROM localities AS layer WHERE geom IS NOT NULL), '')
