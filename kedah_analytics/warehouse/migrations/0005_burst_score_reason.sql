-- A term without a burst score (too little hourly history, or no posts on the day yet) keeps
-- burst_score NULL and says why here; a scored term has NULL here. Never NaN.
ALTER TABLE kedah.trend_predictions ADD COLUMN burst_score_reason text;
-- Rows written before this migration: a NaN score becomes NULL, and a missing score says so.
UPDATE kedah.trend_predictions SET burst_score = NULL WHERE burst_score = 'NaN';
UPDATE kedah.trend_predictions SET burst_score_reason = 'not scored (predicted before reasons were kept)'
    WHERE burst_score IS NULL;
ALTER TABLE kedah.trend_predictions
    ADD CONSTRAINT trend_predictions_burst_score_stated
    CHECK ((burst_score IS NULL) = (burst_score_reason IS NOT NULL) AND burst_score <> 'NaN');
