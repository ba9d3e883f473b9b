-- Comments and tweets a moderator removed (docs/api.md §3.15.3): `removed_reason` is set while the
-- removal stands. A removed comment leaves its video's count, so the counter's triggers count only
-- the comments shown to everyone.
ALTER TABLE comments ADD COLUMN removed_reason TEXT;
ALTER TABLE tweets ADD COLUMN removed_reason TEXT;

DROP TRIGGER comments_count_insert;
DROP TRIGGER comments_count_delete;

CREATE TRIGGER comments_count_insert AFTER INSERT ON comments WHEN NEW.removed_reason IS NULL BEGIN
    INSERT INTO comment_counts (video_id, n) VALUES (NEW.video_id, 1)
        ON CONFLICT (video_id) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER comments_count_delete AFTER DELETE ON comments WHEN OLD.removed_reason IS NULL BEGIN
    UPDATE comment_counts SET n = n - 1 WHERE video_id = OLD.video_id;
END;

CREATE TRIGGER comments_count_removal AFTER UPDATE OF removed_reason ON comments
WHEN (OLD.removed_reason IS NULL) <> (NEW.removed_reason IS NULL) BEGIN
    INSERT INTO comment_counts (video_id, n) VALUES (NEW.video_id, CASE WHEN NEW.removed_reason IS NULL THEN 1 ELSE -1 END)
        ON CONFLICT (video_id) DO UPDATE SET n = n + excluded.n;
END;

-- A viewer's own removed comments on a video are added to the count they see: a lookup in this
-- small index, not a walk over the video's comments.
CREATE INDEX comments_removed ON comments (video_id, owner_id) WHERE removed_reason IS NOT NULL;
