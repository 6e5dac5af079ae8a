-- The language a member reads the web app in (en, id); NULL follows the browser.
ALTER TABLE users ADD COLUMN language TEXT;
