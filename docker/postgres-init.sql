-- Run once by the postgres image, on the first start with an empty data volume
-- (/docker-entrypoint-initdb.d). Two metadata databases on one server: Airflow's and Superset's
-- schemas are migrated by their own tools (airflow db migrate, superset db upgrade) and must
-- never share a database.
--
-- Both belong to POSTGRES_USER, whose password comes from POSTGRES_PASSWORD: a .sql file cannot
-- read the environment, so separate roles would need their passwords written here, and no
-- password is ever written in the repository. This file changes nothing on later starts: edit
-- it and you must recreate the postgres-data volume (or run the statements by hand).
CREATE DATABASE airflow;
CREATE DATABASE superset;
