-- What a backup needs to know about one schema ($1 = schema name): its tables, each with its columns in order and
-- its on-disk size (heap + TOAST, from the page counts of the last VACUUM/ANALYZE: pg_table_size would open every
-- table and queue behind an app holding an exclusive lock, before the backup has even started). Only pg_class and
-- pg_attribute: on a new backend every catalog touched costs its cold cache, and validate's full inspection took
-- the server 16 ms where this takes a few. JSON, because the client parses no array types (fetch_types off).
select c.relname as name,
       ((greatest(c.relpages, 0) + coalesce(t.relpages, 0)) * current_setting('block_size')::bigint)::text as bytes,
       coalesce((select json_agg(a.attname order by a.attnum) from pg_attribute a
                 where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped), '[]') as columns
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
left join pg_class t on t.oid = c.reltoastrelid
where n.nspname = $1 and c.relkind in ('r', 'p')
order by c.relname
