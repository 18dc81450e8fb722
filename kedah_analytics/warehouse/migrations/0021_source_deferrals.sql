-- A spent quota defers, it does not fail (issue 24). One row per source (a platform, or
-- google_trends): until when its schedule skips, because a daily allowance, a budget or a rate
-- limit ran out mid-run. Written by the run that ran out, read by the schedules in the daemon.
CREATE TABLE IF NOT EXISTS kedah.source_deferrals (
    source          text PRIMARY KEY,
    provider        text NOT NULL,
    deferred_until  timestamptz NOT NULL,
    reason          text NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now()
);
