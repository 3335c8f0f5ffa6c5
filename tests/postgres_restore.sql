-- The suite's per-test restore on PostgreSQL (tests/conftest.py installs it in each worker's
-- copy of the demo county, never in the template or the app's migrations).
--
-- Schema _test holds a pristine copy of every table of public ("t"), an unlogged table of the
-- primary keys written since the last restore ("t/keys"), the tables written
-- (_test.touched) and every sequence's value. On every public table, statement-level AFTER
-- triggers with transition tables record the keys of the rows each statement inserted,
-- updated or deleted; they fire for the writes of the app's own triggers and of foreign-key
-- cascades as well, and return NULL, so they change nothing the app sees. _test.restore()
-- puts the written rows back as they were.
CREATE SCHEMA _test;
-- "whole": the table was truncated, so it is copied back whole.
CREATE UNLOGGED TABLE _test.touched (name text PRIMARY KEY, whole boolean NOT NULL);
CREATE TABLE _test.copied (name text PRIMARY KEY, columns text NOT NULL, keys text NOT NULL);
CREATE TABLE _test.sequences (
    seq regclass PRIMARY KEY, last_value bigint NOT NULL, is_called boolean NOT NULL
);

DO $install$
DECLARE
    t record;
    v record;
BEGIN
    FOR t IN
        SELECT c.relname,
               (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum)
                FROM pg_attribute a
                WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                  AND a.attgenerated = '') AS columns,
               (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum)
                FROM pg_index i
                JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY (i.indkey)
                WHERE i.indrelid = c.oid AND i.indisprimary) AS keys
        FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'
    LOOP
        IF t.keys IS NULL THEN
            RAISE EXCEPTION 'table % has no primary key: the restore finds rows by it', t.relname;
        END IF;
        EXECUTE format('CREATE TABLE _test.%1$I AS SELECT %2$s FROM public.%1$I',
                       t.relname, t.columns);
        -- The restore looks its rows up by key.
        EXECUTE format('ALTER TABLE _test.%I ADD PRIMARY KEY (%s)', t.relname, t.keys);
        EXECUTE format('CREATE UNLOGGED TABLE _test.%I AS SELECT %s FROM public.%I WITH NO DATA',
                       t.relname || '/keys', t.keys, t.relname);
        INSERT INTO _test.copied VALUES (t.relname, t.columns, t.keys);
        -- One function per table, so its statements are planned once per connection.
        EXECUTE format($function$
            CREATE FUNCTION _test.%1$I() RETURNS trigger LANGUAGE plpgsql AS $body$
            DECLARE
                written bigint := 0;
                n bigint;
            BEGIN
                IF TG_OP = 'TRUNCATE' THEN
                    INSERT INTO _test.touched VALUES (%4$L, true)
                    ON CONFLICT (name) DO UPDATE SET whole = true;
                    RETURN NULL;
                END IF;
                IF TG_OP IN ('INSERT', 'UPDATE') THEN
                    INSERT INTO _test.%2$I SELECT %3$s FROM _test_new;
                    GET DIAGNOSTICS written = ROW_COUNT;
                END IF;
                IF TG_OP IN ('UPDATE', 'DELETE') THEN
                    INSERT INTO _test.%2$I SELECT %3$s FROM _test_old;
                    GET DIAGNOSTICS n = ROW_COUNT;
                    written := written + n;
                END IF;
                IF written > 0 THEN
                    INSERT INTO _test.touched VALUES (%4$L, false) ON CONFLICT DO NOTHING;
                END IF;
                RETURN NULL;
            END $body$ $function$, t.relname || '/note', t.relname || '/keys', t.keys, t.relname);
        EXECUTE format('CREATE TRIGGER "_test insert" AFTER INSERT ON public.%I '
                       'REFERENCING NEW TABLE AS _test_new '
                       'FOR EACH STATEMENT EXECUTE FUNCTION _test.%I()',
                       t.relname, t.relname || '/note');
        EXECUTE format('CREATE TRIGGER "_test update" AFTER UPDATE ON public.%I '
                       'REFERENCING OLD TABLE AS _test_old NEW TABLE AS _test_new '
                       'FOR EACH STATEMENT EXECUTE FUNCTION _test.%I()',
                       t.relname, t.relname || '/note');
        EXECUTE format('CREATE TRIGGER "_test delete" AFTER DELETE ON public.%I '
                       'REFERENCING OLD TABLE AS _test_old '
                       'FOR EACH STATEMENT EXECUTE FUNCTION _test.%I()',
                       t.relname, t.relname || '/note');
        EXECUTE format('CREATE TRIGGER "_test truncate" AFTER TRUNCATE ON public.%I '
                       'FOR EACH STATEMENT EXECUTE FUNCTION _test.%I()',
                       t.relname, t.relname || '/note');
    END LOOP;
    FOR t IN
        SELECT c.oid::regclass AS seq FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'S'
    LOOP
        EXECUTE format('SELECT last_value, is_called FROM %s', t.seq) INTO v;
        INSERT INTO _test.sequences VALUES (t.seq, v.last_value, v.is_called);
    END LOOP;
END $install$;

-- The database back to its pristine copy: in each touched table the rows whose keys were
-- written are deleted and their pristine versions (if any) inserted, and every sequence that
-- moved is set back. Triggers and foreign-key checks are off meanwhile (replica role): rows go
-- back as they were and nothing reacts to them. Returns how many tables and sequences it
-- put back.
CREATE FUNCTION _test.restore() RETURNS integer LANGUAGE plpgsql
SET session_replication_role = replica SET lock_timeout = '10s' AS $restore$
DECLARE
    t record;
    c record;
    n integer := 0;
BEGIN
    FOR t IN DELETE FROM _test.touched RETURNING name, whole LOOP
        SELECT * INTO STRICT c FROM _test.copied WHERE name = t.name;
        IF t.whole THEN
            EXECUTE format('DELETE FROM public.%I', c.name);
            EXECUTE format('INSERT INTO public.%1$I (%2$s) SELECT %2$s FROM _test.%1$I',
                           c.name, c.columns);
        ELSE
            EXECUTE format('DELETE FROM public.%1$I WHERE (%2$s) IN (SELECT %2$s FROM _test.%3$I)',
                           c.name, c.keys, c.name || '/keys');
            EXECUTE format('INSERT INTO public.%1$I (%2$s) SELECT %2$s FROM _test.%1$I '
                           'WHERE (%3$s) IN (SELECT %3$s FROM _test.%4$I)',
                           c.name, c.columns, c.keys, c.name || '/keys');
        END IF;
        EXECUTE format('DELETE FROM _test.%I', c.name || '/keys');
        n := n + 1;
    END LOOP;
    FOR c IN
        SELECT * FROM _test.sequences
        WHERE pg_sequence_last_value(seq) IS DISTINCT FROM
              CASE WHEN is_called THEN last_value END
    LOOP
        PERFORM setval(c.seq, c.last_value, c.is_called);
        n := n + 1;
    END LOOP;
    RETURN n;
END $restore$;
