-- The owner index also holds each video's visibility, so a listing of several channels' videos
-- (the subscription feed) can pick its page from the index alone and read only the page's rows:
-- a feed over 500 channels otherwise read the table row of every candidate to test its
-- visibility, a random page each at a million videos.
DROP INDEX videos_owner_created;
CREATE INDEX videos_owner_created ON videos (owner_id, created_at, id, visibility);
