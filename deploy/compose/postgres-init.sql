-- Run once by the postgres image on an empty data directory: the Rasa tracker store's database,
-- beside the application database (POSTGRES_DB) that holds the leads, the feedback and the
-- catalogue. Both belong to POSTGRES_USER.
CREATE DATABASE rasa;
