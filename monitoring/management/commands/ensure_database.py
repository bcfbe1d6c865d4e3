"""Create the configured database and its extensions when missing (used by make run / make test)."""

import psycopg2
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from psycopg2 import sql

EXTENSIONS = ("postgis", "pg_trgm")


class Command(BaseCommand):
    help = "Create the database named in DATABASE_URL and the PostGIS and pg_trgm extensions."
    requires_system_checks = []

    def handle(self, *args, **options):
        db = settings.DATABASES["default"]
        params = {
            "host": db.get("HOST") or None,
            "port": db.get("PORT") or None,
            "user": db.get("USER") or None,
            "password": db.get("PASSWORD") or None,
        }
        try:
            self._create_database(db["NAME"], params)
            self._create_extensions(db["NAME"], params)
        except psycopg2.Error as exc:
            raise CommandError(f"Could not prepare database {db['NAME']!r}: {exc}") from exc

    def _create_database(self, name: str, params: dict) -> None:
        conn = psycopg2.connect(dbname="postgres", **params)
        conn.autocommit = True
        try:
            with conn.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
                if cursor.fetchone():
                    return
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                self.stdout.write(f"Created database {name}.")
        finally:
            conn.close()

    def _create_extensions(self, name: str, params: dict) -> None:
        conn = psycopg2.connect(dbname=name, **params)
        conn.autocommit = True
        try:
            with conn.cursor() as cursor:
                for extension in EXTENSIONS:
                    cursor.execute(
                        sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(
                            sql.Identifier(extension)
                        )
                    )
        finally:
            conn.close()
