-- Real sources: account insights, Google Trends interest, and the state the sources keep between
-- runs (X since_id cursors, the Instagram hashtag ledger, the YouTube search.list allowance, the
-- Google Trends cache). Every key column is NOT NULL: a NULL in a key never conflicts.

-- One row per Kedah (or, where the platform says so, Pacific) day, account and metric. `value` is
-- NULL when the platform listed the metric without a value: never 0 by guess.
CREATE TABLE kedah.account_daily_metrics (
    date        date NOT NULL,
    platform    text NOT NULL,
    account_id  text NOT NULL,
    metric      text NOT NULL,
    value       double precision,
    provider    text NOT NULL,
    metadata    jsonb NOT NULL DEFAULT '{}',
    fetched_at  timestamptz NOT NULL,
    PRIMARY KEY (date, platform, account_id, metric)
);

-- Interest is 0..100 relative within one request (keyword_group over timeframe): compare values
-- only between rows that share both.
CREATE TABLE kedah.search_interest (
    date           date NOT NULL,
    keyword        text NOT NULL,
    geo            text NOT NULL,
    interest       integer NOT NULL CHECK (interest BETWEEN 0 AND 100),
    is_partial     boolean NOT NULL,
    keyword_group  text[] NOT NULL,
    timeframe      text NOT NULL,
    provider       text NOT NULL,
    fetched_at     timestamptz NOT NULL,
    PRIMARY KEY (date, keyword, geo)
);

-- Provider cursors to resume polling from, e.g. X's newest tweet id per search query. Written in
-- the same transaction as the posts they cover.
CREATE TABLE kedah.source_cursors (
    provider    text NOT NULL,
    cursor_key  text NOT NULL,
    value       text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, cursor_key)
);

-- Instagram allows 30 unique hashtags per account in any 7 days: when each was last queried.
CREATE TABLE kedah.instagram_hashtag_queries (
    account_id   text NOT NULL,
    hashtag      text NOT NULL,
    queried_at   timestamptz NOT NULL,
    PRIMARY KEY (account_id, hashtag)
);

-- Hashtag ids found by ig_hashtag_search (they never change), so a search is not repeated.
CREATE TABLE kedah.instagram_hashtag_ids (
    hashtag     text PRIMARY KEY,
    hashtag_id  text NOT NULL,
    found_at    timestamptz NOT NULL DEFAULT now()
);

-- YouTube search.list calls spent per Pacific day (the allowance resets at midnight Pacific).
CREATE TABLE kedah.youtube_search_calls (
    pacific_day  date PRIMARY KEY,
    calls        integer NOT NULL CHECK (calls >= 0),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Google Trends answers, per request, so retries and re-runs do not ask Google again.
CREATE TABLE kedah.google_trends_cache (
    keywords    text[] NOT NULL,
    timeframe   text NOT NULL,
    geo         text NOT NULL,
    tz          integer NOT NULL,
    fetched_at  timestamptz NOT NULL,
    rows        jsonb NOT NULL,
    PRIMARY KEY (keywords, timeframe, geo, tz)
);
