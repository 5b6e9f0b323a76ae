-- What pg_catalog says about one schema ($1 = schema name): its tables, columns, constraints and indexes, as one
-- JSON document. validate runs it twice, on the live schema and on the definitions materialised as temporary
-- tables, so PostgreSQL itself normalises type spellings, default expressions and index definitions.
-- Works on PostgreSQL 12 and later (no version-specific pg_index columns are named directly).
with ns as (
  select oid from pg_namespace where nspname = $1
), rel as (
  select c.oid, c.relname, c.relnamespace
  from pg_class c join ns on c.relnamespace = ns.oid
  where c.relkind in ('r', 'p')
)
select json_build_object(
  'tables', coalesce((select json_agg(r.relname order by r.relname) from rel r), '[]'::json),

  'columns', coalesce((
    select json_agg(json_build_object(
      'table', r.relname,
      'name', a.attname,
      'position', a.attnum,
      'type', format_type(a.atttypid, a.atttypmod),
      'not_null', a.attnotnull,
      'default', pg_get_expr(d.adbin, d.adrelid),
      'identity', nullif(a.attidentity::text, ''),
      'generated', nullif(a.attgenerated::text, ''),
      'collation', case when a.attcollation <> t.typcollation then co.collname end
    ) order by r.relname, a.attnum)
    from rel r
    join pg_attribute a on a.attrelid = r.oid and a.attnum > 0 and not a.attisdropped
    join pg_type t on t.oid = a.atttypid
    left join pg_attrdef d on d.adrelid = r.oid and d.adnum = a.attnum
    left join pg_collation co on co.oid = a.attcollation
  ), '[]'::json),

  'constraints', coalesce((
    select json_agg(json_build_object(
      'table', r.relname,
      'name', con.conname,
      'type', con.contype,
      'columns', (select json_agg(a.attname order by k.ord)
                  from unnest(con.conkey) with ordinality k(attnum, ord)
                  join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.attnum),
      'ref_table', fc.relname,
      'ref_same_schema', fc.relnamespace = r.relnamespace,
      'ref_columns', (select json_agg(a.attname order by k.ord)
                      from unnest(con.confkey) with ordinality k(attnum, ord)
                      join pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.attnum),
      'on_update', nullif(con.confupdtype::text, ' '),
      'on_delete', nullif(con.confdeltype::text, ' '),
      'match', nullif(con.confmatchtype::text, ' '),
      'deferrable', con.condeferrable,
      'deferred', con.condeferred,
      'definition', case when con.contype in ('c', 'x') then pg_get_constraintdef(con.oid, true) end
    ) order by r.relname, con.conname)
    from rel r
    join pg_constraint con on con.conrelid = r.oid
    left join pg_class fc on fc.oid = con.confrelid
    where con.contype in ('p', 'u', 'f', 'c', 'x')
  ), '[]'::json),

  'indexes', coalesce((
    select json_agg(json_build_object(
      'table', r.relname,
      'name', ic.relname,
      'unique', i.indisunique,
      'primary', i.indisprimary,
      'constraint', exists (select 1 from pg_constraint c where c.conindid = i.indexrelid and c.conrelid = i.indrelid),
      'method', am.amname,
      'key_columns', (select json_agg(pg_get_indexdef(i.indexrelid, k, true) order by k)
                      from generate_series(1, i.indnkeyatts) k),
      'include_columns', coalesce((select json_agg(pg_get_indexdef(i.indexrelid, k, true) order by k)
                                   from generate_series(i.indnkeyatts + 1, i.indnatts) k), '[]'::json),
      'options', (select json_agg(o order by n) from unnest(i.indoption::int2[]) with ordinality x(o, n)),
      'opclasses', (select json_agg(opc.opcname order by n)
                    from unnest(i.indclass::oid[]) with ordinality x(oid, n)
                    join pg_opclass opc on opc.oid = x.oid),
      'predicate', pg_get_expr(i.indpred, i.indrelid, true),
      'nulls_not_distinct', coalesce((to_jsonb(i) ->> 'indnullsnotdistinct')::boolean, false),
      'valid', i.indisvalid
    ) order by r.relname, ic.relname)
    from rel r
    join pg_index i on i.indrelid = r.oid
    join pg_class ic on ic.oid = i.indexrelid
    join pg_am am on am.oid = ic.relam
  ), '[]'::json)
) as model
