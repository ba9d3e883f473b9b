-- Counted views per video and hour (hours since the epoch), for trending: the ranking reads the
-- hours of its window through video_view_hours_hour and never scans the videos.
CREATE TABLE video_view_hours (
    video_id TEXT NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    hour     INTEGER NOT NULL,
    n        INTEGER NOT NULL,
    PRIMARY KEY (video_id, hour)
) WITHOUT ROWID;
CREATE INDEX video_view_hours_hour ON video_view_hours (hour, video_id, n);
