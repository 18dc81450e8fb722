-- Marts for analysts and tourism boards, and alerts that explain themselves.
-- Every mart is derived and daily (`date` is the partition column) and keeps `provider`
-- ('demo' or 'real') in its key, so demo figures never mix with real ones.

-- Per city (and 'All Kedah') and platform (and 'all'): the overview a tourism board reads.
CREATE TABLE kedah.city_daily_overview (
    date            date NOT NULL,
    city            text NOT NULL,
    platform        text NOT NULL,
    provider        text NOT NULL,
    posts           integer NOT NULL,
    likes           bigint NOT NULL,
    comments        bigint NOT NULL,
    shares          bigint NOT NULL,
    views           bigint NOT NULL,
    engagement      bigint NOT NULL,
    positive        integer NOT NULL,
    neutral         integer NOT NULL,
    negative        integer NOT NULL,
    positive_share  double precision,
    neutral_share   double precision,
    negative_share  double precision,
    sentiment_mean  double precision,
    PRIMARY KEY (date, city, platform, provider)
);

-- Per day: places ranked by engagement and by posts, with their trend and share of voice.
CREATE TABLE kedah.place_rankings (
    date                    date NOT NULL,
    place_id                text NOT NULL,
    provider                text NOT NULL,
    place_name              text NOT NULL,
    city                    text NOT NULL,
    category                text NOT NULL,
    posts                   integer NOT NULL,
    engagement              bigint NOT NULL,
    rank_engagement         integer NOT NULL,
    rank_posts              integer NOT NULL,
    rank_engagement_city    integer NOT NULL,
    engagement_avg_7d       double precision NOT NULL,
    engagement_avg_28d      double precision NOT NULL,
    engagement_change_7d    double precision,
    engagement_change_28d   double precision,
    posts_avg_7d            double precision NOT NULL,
    posts_avg_28d           double precision NOT NULL,
    posts_change_7d         double precision,
    posts_change_28d        double precision,
    sentiment_mean          double precision,
    sentiment_mean_28d      double precision,
    sentiment_change_28d    double precision,
    share_of_voice_city     double precision NOT NULL,
    share_of_voice_kedah    double precision NOT NULL,
    PRIMARY KEY (date, place_id, provider)
);

-- Per city (and 'All Kedah') and place category: sentiment counts and mean.
CREATE TABLE kedah.sentiment_by_category (
    date            date NOT NULL,
    city            text NOT NULL,
    category        text NOT NULL,
    provider        text NOT NULL,
    posts           integer NOT NULL,
    positive        integer NOT NULL,
    neutral         integer NOT NULL,
    negative        integer NOT NULL,
    sentiment_mean  double precision,
    PRIMARY KEY (date, city, category, provider)
);

-- Per day and place: the most engaging non-spam posts.
CREATE TABLE kedah.top_posts (
    date             date NOT NULL,
    place_id         text NOT NULL,
    provider         text NOT NULL,
    rank             integer NOT NULL,
    place_name       text NOT NULL,
    city             text NOT NULL,
    platform         text NOT NULL,
    post_id          text NOT NULL,
    created_at       timestamptz NOT NULL,
    author_name      text,
    url              text,
    text             text NOT NULL,
    language         text NOT NULL,
    sentiment_label  text NOT NULL,
    sentiment_score  double precision NOT NULL,
    likes            bigint NOT NULL,
    comments         bigint NOT NULL,
    shares           bigint NOT NULL,
    views            bigint NOT NULL,
    engagement       bigint NOT NULL,
    PRIMARY KEY (date, place_id, provider, rank)
);

-- Alerts raised on a day: a term or place that bursts, or a place whose sentiment dips. The
-- asset replaces its day; alert_id is a hash of (kind, subject, provider, date), so a re-run
-- gives the same ids and kedah.alert_notifications (written by the sensor, never replaced)
-- keeps one alert from being sent twice.
CREATE TABLE kedah.alerts (
    date                date NOT NULL,
    alert_id            text NOT NULL,
    kind                text NOT NULL,   -- burst | sentiment_dip
    subject             text NOT NULL,   -- the trend series key: 'place:kuah', '#langkawi', 'topic:food'
    subject_type        text NOT NULL,   -- keyword | hashtag | topic | place
    subject_name        text NOT NULL,
    city                text,
    provider            text NOT NULL,
    observed            double precision NOT NULL,
    baseline            double precision NOT NULL,
    change_pct          double precision,
    score               double precision NOT NULL,
    posts               integer NOT NULL,
    platforms           jsonb NOT NULL,  -- {"twitter": 12, ...} posts of the day per platform
    sentiment_now       double precision,
    sentiment_baseline  double precision,
    top_posts           jsonb NOT NULL,  -- [{platform, post_id, author_name, url, text, engagement, sentiment}]
    message             text NOT NULL,
    PRIMARY KEY (date, alert_id)
);

CREATE TABLE kedah.alert_notifications (
    alert_id     text PRIMARY KEY,
    date         date NOT NULL,
    channel      text NOT NULL,  -- webhook | log | skipped (too old when first seen: a backfill)
    notified_at  timestamptz NOT NULL DEFAULT now()
);
