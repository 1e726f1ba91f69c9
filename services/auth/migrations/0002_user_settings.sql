-- Each person's preferences (generation settings, theme, language), so they follow them across browsers.
-- A table of its own rather than a column on users: users is read on every login (with the password
-- hash) and settings are written on every change in the UI; apart, those writes never touch or lock
-- the credentials row, and a user who never saved any simply has no row (the defaults live in code,
-- services/auth/src/user-settings.ts, so changing one reaches everybody who kept it).
-- jsonb: a preference added later (language came this way) needs no migration; the service validates
-- every value before it is written and reads the document forgivingly.
CREATE TABLE user_settings (
  user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  settings jsonb NOT NULL DEFAULT '{}',
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT user_settings_settings_is_object CHECK (jsonb_typeof(settings) = 'object')
);
