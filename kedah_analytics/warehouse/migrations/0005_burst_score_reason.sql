-- A term without a burst score (too little hourly history, or no posts on the day yet) keeps
-- burst_score NULL and says why here; a scored term has NULL here. Never NaN.
ALTER TABLE kedah.trend_predictions ADD COLUMN burst_score_reason text;
ALTER TABLE kedah.trend_predictions
    ADD CONSTRAINT trend_predictions_burst_score_stated
    CHECK ((burst_score IS NULL) = (burst_score_reason IS NOT NULL) AND burst_score <> 'NaN');
