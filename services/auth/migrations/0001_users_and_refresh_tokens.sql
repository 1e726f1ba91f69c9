-- Users and their refresh tokens. Runs with search_path = auth (see @freechat/shared/postgres).
-- Index names carry their table's name: PostgreSQL index names are schema-wide.

CREATE TABLE users (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- Kept as typed; uniqueness and lookup ignore case (no citext: it needs an extension).
  username text NOT NULL,
  password_hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
-- Register's uniqueness and Login's lookup (WHERE lower(username) = lower($1)).
CREATE UNIQUE INDEX users_username_lower_key ON users (lower(username));

CREATE TABLE refresh_tokens (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  -- SHA-256 of the opaque token; the token itself is never stored.
  token_hash bytea NOT NULL,
  -- Every token rotated from one login shares its family; reuse of a rotated token revokes it all.
  family_id uuid NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  replaced_by uuid REFERENCES refresh_tokens (id),
  revoked_at timestamptz,
  CONSTRAINT refresh_tokens_token_hash_key UNIQUE (token_hash),
  CONSTRAINT refresh_tokens_token_hash_length CHECK (octet_length(token_hash) = 32),
  CONSTRAINT refresh_tokens_used_has_successor CHECK ((used_at IS NULL) = (replaced_by IS NULL))
);
-- Refresh and Logout find a token by token_hash (the unique constraint's index); revoking a family
-- updates by family_id; deleting a user cascades by user_id.
CREATE INDEX refresh_tokens_family_id_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_id_idx ON refresh_tokens (user_id);
-- replaced_by references this table: without an index, deleting a token scans it for successors.
CREATE INDEX refresh_tokens_replaced_by_idx ON refresh_tokens (replaced_by) WHERE replaced_by IS NOT NULL;
