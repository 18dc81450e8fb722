-- One word for one thing: a "term" is what the trend tables count (a keyword, hashtag, topic or
-- place; term_type says which), so the tables and the predictions' column say term, and
-- "keyword" keeps its one meaning, the term_type.
ALTER TABLE kedah.keyword_daily_counts RENAME TO term_daily_counts;
ALTER TABLE kedah.keyword_hourly_counts RENAME TO term_hourly_counts;
ALTER TABLE kedah.term_daily_counts RENAME CONSTRAINT keyword_daily_counts_pkey TO term_daily_counts_pkey;
ALTER TABLE kedah.term_hourly_counts RENAME CONSTRAINT keyword_hourly_counts_pkey TO term_hourly_counts_pkey;
ALTER INDEX kedah.keyword_hourly_counts_date RENAME TO term_hourly_counts_date;
ALTER TABLE kedah.trend_predictions RENAME COLUMN keyword TO term;
