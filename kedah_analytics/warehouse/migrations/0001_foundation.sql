-- Foundation: places, raw and classified posts, daily place metrics, quarantine.
-- Days are Kedah days (Asia/Kuala_Lumpur); `date` and `platform` are the partition columns.

CREATE TABLE kedah.places (
    place_id    text PRIMARY KEY,
    name        text NOT NULL,
    city        text NOT NULL,
    district    text NOT NULL,
    category    text NOT NULL,
    lat         double precision NOT NULL,
    lon         double precision NOT NULL,
    aliases_en  text[] NOT NULL DEFAULT '{}',
    aliases_ms  text[] NOT NULL DEFAULT '{}'
);

-- Raw posts merge: a post is keyed by (platform, post_id) and keeps the day it was created on.
CREATE TABLE kedah.raw_posts (
    platform          text NOT NULL,
    post_id           text NOT NULL,
    date              date NOT NULL,
    created_at        timestamptz NOT NULL,
    text              text NOT NULL,
    author_id         text,
    author_name       text,
    author_followers  bigint,
    url               text,
    hashtags          text[] NOT NULL DEFAULT '{}',
    like_count        bigint,
    comment_count     bigint,
    share_count       bigint,
    view_count        bigint,
    lang              text,
    provider          text NOT NULL,
    first_seen_at     timestamptz NOT NULL,
    fetched_at        timestamptz NOT NULL,
    payload           jsonb NOT NULL,
    PRIMARY KEY (platform, post_id)
);
CREATE INDEX raw_posts_date_platform ON kedah.raw_posts (date, platform);

CREATE TABLE kedah.classified_posts (
    platform                text NOT NULL,
    post_id                 text NOT NULL,
    date                    date NOT NULL,
    created_at              timestamptz NOT NULL,
    provider                text NOT NULL,
    language                text NOT NULL,
    sentiment_label         text NOT NULL,
    sentiment_score         double precision NOT NULL,
    sentiment_confidence    double precision NOT NULL,
    keywords                text[] NOT NULL DEFAULT '{}',
    topics                  text[] NOT NULL DEFAULT '{}',
    place_id                text,
    city                    text,
    spam_score              double precision NOT NULL,
    is_spam                 boolean NOT NULL,
    like_count              bigint,
    comment_count           bigint,
    share_count             bigint,
    view_count              bigint,
    engagement              bigint NOT NULL,
    engagement_rate         double precision,
    engagement_denominator  text,
    classifier              text NOT NULL,
    classifier_version      text NOT NULL,
    PRIMARY KEY (platform, post_id)
);
CREATE INDEX classified_posts_date_platform ON kedah.classified_posts (date, platform);

CREATE TABLE kedah.place_daily_metrics (
    date            date NOT NULL,
    place_id        text NOT NULL,
    place_name      text NOT NULL,
    city            text NOT NULL,
    platform        text NOT NULL,
    provider        text NOT NULL,
    posts           integer NOT NULL,
    spam_posts      integer NOT NULL,
    likes           bigint NOT NULL,
    comments        bigint NOT NULL,
    shares          bigint NOT NULL,
    views           bigint NOT NULL,
    positive        integer NOT NULL,
    neutral         integer NOT NULL,
    negative        integer NOT NULL,
    sentiment_mean  double precision,
    engagement      bigint NOT NULL,
    PRIMARY KEY (date, place_id, platform, provider)
);

-- Items a source or classifier could not use, with the reason. Idempotent on the payload's hash.
CREATE TABLE kedah.quarantine (
    asset          text NOT NULL,
    platform       text NOT NULL,
    provider       text NOT NULL,
    record_hash    text NOT NULL,
    partition_key  text NOT NULL,
    reason         text NOT NULL,
    payload        jsonb NOT NULL,
    first_seen_at  timestamptz NOT NULL DEFAULT now(),
    last_seen_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (asset, platform, record_hash)
);

-- What an analyst usually wants: each post with its text and its classification.
CREATE VIEW kedah.posts AS
SELECT r.platform, r.post_id, r.date, r.created_at, r.text, r.author_name, r.url, r.hashtags,
       r.provider, c.language, c.sentiment_label, c.sentiment_score, c.sentiment_confidence,
       c.keywords, c.topics, c.place_id, c.city, c.is_spam, c.spam_score,
       r.like_count, r.comment_count, r.share_count, r.view_count,
       c.engagement, c.engagement_rate, c.engagement_denominator, c.classifier, c.classifier_version
FROM kedah.raw_posts r
LEFT JOIN kedah.classified_posts c USING (platform, post_id);
