-- A digest of every row the basemap draws (monitoring/basemap.py: the basemap's version): it
-- changes when any area, locality, route or camp it shows changes, and only then.
SELECT md5(string_agg(row_digest, '' ORDER BY row_digest))
FROM (
    SELECT md5(ST_AsBinary(geom)
               || convert_to(concat_ws('|', 'zone', kind, pcode, name_en, name_ar), 'UTF8'))
    FROM {zones}
    UNION ALL
    SELECT md5(ST_AsBinary(location)
               || convert_to(concat_ws('|', 'locality', id, name_en, name_ar, adm1_pcode,
                                       adm2_pcode, adm3_pcode), 'UTF8'))
    FROM {localities}
    UNION ALL
    SELECT md5(ST_AsBinary(geom)
               || convert_to(concat_ws('|', 'route', slug, kind, name_en, name_ar), 'UTF8'))
    FROM {routes}
    UNION ALL
    SELECT md5(coalesce(ST_AsBinary(location), '')
               || convert_to(concat_ws('|', 'camp', site_id, name_en, name_ar, camp_type), 'UTF8'))
    FROM {camps}
) AS digests (row_digest)
