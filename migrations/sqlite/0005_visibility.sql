-- Visibility levels replace the published flag (docs/api.md §1.12): published videos become
-- 'public', unpublished ones 'private'. The per-owner counts of 0003 are kept per level instead,
-- and the feed's indexes lead with the level.

ALTER TABLE videos ADD COLUMN visibility TEXT NOT NULL DEFAULT 'public'
    CHECK (visibility IN ('public', 'unlisted', 'private'));
UPDATE videos SET visibility = CASE WHEN is_published = 1 THEN 'public' ELSE 'private' END;

-- What reads is_published goes first, so the column can be dropped.
DROP TRIGGER videos_count_insert;
DROP TRIGGER videos_count_delete;
DROP TRIGGER videos_count_publish;
DROP INDEX videos_published_created;
DROP INDEX videos_published_views;
DROP INDEX videos_published_duration;
DROP INDEX videos_published_title;
ALTER TABLE videos DROP COLUMN is_published;

CREATE INDEX videos_visibility_created ON videos (visibility, created_at, id);
CREATE INDEX videos_visibility_views ON videos (visibility, views, id);
CREATE INDEX videos_visibility_duration ON videos (visibility, duration, id);
CREATE INDEX videos_visibility_title ON videos (visibility, title, id);

DROP TABLE video_counts;
CREATE TABLE video_counts (
    owner_id   TEXT NOT NULL,
    visibility TEXT NOT NULL,
    n          INTEGER NOT NULL,
    PRIMARY KEY (owner_id, visibility)
) WITHOUT ROWID;

INSERT INTO video_counts (owner_id, visibility, n)
SELECT owner_id, visibility, COUNT(*) FROM videos GROUP BY owner_id, visibility;
INSERT INTO video_counts (owner_id, visibility, n)
SELECT '*', visibility, COUNT(*) FROM videos GROUP BY visibility;

CREATE TRIGGER videos_count_insert AFTER INSERT ON videos BEGIN
    INSERT INTO video_counts (owner_id, visibility, n) VALUES (NEW.owner_id, NEW.visibility, 1), ('*', NEW.visibility, 1)
        ON CONFLICT (owner_id, visibility) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER videos_count_delete AFTER DELETE ON videos BEGIN
    UPDATE video_counts SET n = n - 1
        WHERE visibility = OLD.visibility AND owner_id IN (OLD.owner_id, '*');
END;

CREATE TRIGGER videos_count_visibility AFTER UPDATE OF visibility ON videos
WHEN OLD.visibility <> NEW.visibility BEGIN
    UPDATE video_counts SET n = n - 1 WHERE visibility = OLD.visibility AND owner_id IN (OLD.owner_id, '*');
    INSERT INTO video_counts (owner_id, visibility, n) VALUES (NEW.owner_id, NEW.visibility, 1), ('*', NEW.visibility, 1)
        ON CONFLICT (owner_id, visibility) DO UPDATE SET n = n + 1;
END;
