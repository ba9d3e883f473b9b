-- Lets the orphan-media reconciliation ask "is this stored object referenced?" without scanning.
CREATE INDEX users_avatar_key ON users (avatar_key);
CREATE INDEX users_cover_image_key ON users (cover_image_key);
CREATE INDEX videos_video_key ON videos (video_key);
CREATE INDEX videos_thumbnail_key ON videos (thumbnail_key);
