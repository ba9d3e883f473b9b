-- Exact comment counts per video kept in step with the comments table by triggers, so a comments
-- page's total is one lookup instead of a count over the video's index range (which grows with the
-- video: at 10k comments on one video the count took as long as the page). Rows of videos without
-- comments are absent and read as 0; a video's row goes with the video.
CREATE TABLE comment_counts (
    video_id TEXT PRIMARY KEY NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    n        INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- Only comments of existing videos: a database once used without foreign keys could hold others,
-- and the counter's foreign key would refuse them.
INSERT INTO comment_counts (video_id, n)
SELECT video_id, COUNT(*) FROM comments WHERE video_id IN (SELECT id FROM videos) GROUP BY video_id;

CREATE TRIGGER comments_count_insert AFTER INSERT ON comments BEGIN
    INSERT INTO comment_counts (video_id, n) VALUES (NEW.video_id, 1)
        ON CONFLICT (video_id) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER comments_count_delete AFTER DELETE ON comments BEGIN
    UPDATE comment_counts SET n = n - 1 WHERE video_id = OLD.video_id;
END;
