-- A raw post's provider payload may be emptied once it is older than KEDAH_PAYLOAD_RETENTION_DAYS
-- (kedah_analytics/warehouse/retention.py); the post's row and every other column stay.
ALTER TABLE kedah.raw_posts ALTER COLUMN payload DROP NOT NULL;
