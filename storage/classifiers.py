"""The classifier models the office refitted (`Models`), a repository over the store's engine;
`Store.models` hands it out."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from aggregator.clock import local_now
from storage.tables import models_t


class Models:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def save(self, blob: bytes, *, examples: int, office_examples: int, digest: str) -> int:
        with self.engine.begin() as conn:
            return int(conn.execute(models_t.insert().values(
                trained_at=local_now(), examples=examples, office_examples=office_examples, digest=digest,
                blob=blob).returning(models_t.c.id)).scalar_one())

    def latest_id(self) -> int | None:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.max(models_t.c.id))).scalar_one_or_none()

    def digest(self, model_id: int) -> str:
        """The digest of the training data a kept model was fitted on."""
        with self.engine.connect() as conn:
            return str(conn.execute(sa.select(models_t.c.digest).where(models_t.c.id == model_id)).scalar_one())

    def blob(self, model_id: int) -> bytes:
        with self.engine.connect() as conn:
            return bytes(conn.execute(sa.select(models_t.c.blob).where(models_t.c.id == model_id)).scalar_one())
