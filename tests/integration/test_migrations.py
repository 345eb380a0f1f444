"""The schema is made by the migrations alone, and they agree with the models."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from lifecycle.db import make_engine
from lifecycle.models import Base


def test_migrated_schema_matches_the_models_on_both_databases(db_url):
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()
    assert differences == []
