-- The marts' version, for the board's API and dashboard: every statement that writes a mart bumps
-- its row in the same transaction, so a reader sees a new version exactly when it can see the new
-- rows. One indexed row per mart makes it cheap enough to read on every request (ETag, cache key),
-- and a NOTIFY on channel kedah_marts (delivered at commit) lets a server keep it in memory.
CREATE TABLE kedah.mart_versions (
    mart        text PRIMARY KEY,
    version     bigint NOT NULL DEFAULT 0,
    changed_at  timestamptz NOT NULL DEFAULT now()
);

INSERT INTO kedah.mart_versions (mart)
VALUES ('city_daily_overview'), ('place_rankings'), ('sentiment_by_category'), ('top_posts'), ('alerts'),
       ('trend_predictions'), ('account_daily_metrics');

CREATE FUNCTION kedah.bump_mart_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE kedah.mart_versions SET version = version + 1, changed_at = clock_timestamp()
    WHERE mart = TG_TABLE_NAME;
    PERFORM pg_notify('kedah_marts', TG_TABLE_NAME);
    RETURN NULL;
END $$;

DO $$
DECLARE name text;
BEGIN
    FOREACH name IN ARRAY ARRAY['city_daily_overview', 'place_rankings', 'sentiment_by_category', 'top_posts',
                                'alerts', 'trend_predictions', 'account_daily_metrics'] LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON kedah.%I '
                       'FOR EACH STATEMENT EXECUTE FUNCTION kedah.bump_mart_version()',
                       name || '_version', name);
    END LOOP;
END $$;

-- A place's change against the 7 and 28 days before counts only days the warehouse covers; with
-- fewer, the change is NULL and the reason says how many days there are.
ALTER TABLE kedah.place_rankings ADD COLUMN change_7d_reason text, ADD COLUMN change_28d_reason text;
