-- Every account has a role (docs/api.md §3.15.1); the admins are few, and the last one may not be
-- demoted, so they are counted through an index of the accounts above `user`.
ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'moderator', 'admin'));
CREATE INDEX users_staff ON users (role) WHERE role != 'user';
