-- Trends: term counts per day and hour, the weekly model history, and trend predictions.

CREATE TABLE kedah.keyword_daily_counts (
    date        date NOT NULL,
    platform    text NOT NULL,
    term        text NOT NULL,
    term_type   text NOT NULL,  -- keyword, hashtag, topic, place
    posts       integer NOT NULL,
    likes       bigint NOT NULL,
    comments    bigint NOT NULL,
    shares      bigint NOT NULL,
    views       bigint NOT NULL,
    engagement  bigint NOT NULL,
    PRIMARY KEY (date, platform, term, term_type)
);

CREATE TABLE kedah.keyword_hourly_counts (
    date        date NOT NULL,  -- the Kedah day of `hour`
    hour        timestamptz NOT NULL,
    platform    text NOT NULL,
    term        text NOT NULL,
    term_type   text NOT NULL,
    posts       integer NOT NULL,
    engagement  bigint NOT NULL,
    PRIMARY KEY (hour, platform, term, term_type)
);
CREATE INDEX keyword_hourly_counts_date ON kedah.keyword_hourly_counts (date);

-- One row per training week: the candidate, its backtest, and the model that serves afterwards.
CREATE TABLE kedah.trend_model (
    week_start         date PRIMARY KEY,
    training_start     date NOT NULL,
    training_end       date NOT NULL,
    candidate_version  text NOT NULL,
    promoted           boolean NOT NULL,
    serving_version    text NOT NULL,
    serving_kind       text NOT NULL,
    reason             text NOT NULL,
    metrics            jsonb NOT NULL,
    candidate_model    bytea NOT NULL,
    serving_model      bytea NOT NULL
);

CREATE TABLE kedah.trend_predictions (
    date              date NOT NULL,  -- the day the prediction is made on (as of the day before)
    rank              integer NOT NULL,
    keyword           text NOT NULL,
    origin_date       date NOT NULL,  -- the last day of counts the forecast used
    target_date       date NOT NULL,
    horizon           integer NOT NULL,
    predicted_volume  double precision NOT NULL,
    recent_level      double precision NOT NULL,
    score             double precision NOT NULL,
    confidence        double precision NOT NULL,
    model_version     text NOT NULL,
    burst_score       double precision,
    is_bursting       boolean NOT NULL,
    PRIMARY KEY (date, keyword, target_date)
);
