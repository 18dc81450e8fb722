-- Gemini results by post-text hash and classifier version, so re-materializing never pays twice.
CREATE TABLE kedah.sentiment_cache (
    cache_key   text PRIMARY KEY,
    label       text NOT NULL,
    score       double precision NOT NULL,
    confidence  double precision NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
