"""The bridge's tables. Types behave the same on SQLite and PostgreSQL (times are epoch floats)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Float, Index, Integer, String, Text, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class SchemaVersion(Base):
    __tablename__ = "schema_version"
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    applied_at: Mapped[float] = mapped_column(Float)


class ConnectSessionRow(Base):
    """A connect session, recorded the first time its token is used (minting writes nothing)."""

    __tablename__ = "connect_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant: Mapped[str | None] = mapped_column(String(200))
    end_user_id: Mapped[str] = mapped_column(String(200))
    source_types: Mapped[list[str] | None] = mapped_column(JSON)
    source_id: Mapped[int | None] = mapped_column(BigInteger)
    expires_at: Mapped[float] = mapped_column(Float)
    first_used_at: Mapped[float] = mapped_column(Float)


class SourceRow(Base):
    """Who owns which Stitch source. Never credentials: Stitch keeps those."""

    __tablename__ = "sources"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # the Stitch source id
    tenant: Mapped[str] = mapped_column(String(200), default="")  # "" in single-account mode
    end_user_id: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str] = mapped_column(String(300))
    name: Mapped[str] = mapped_column(String(100))
    current_step: Mapped[int] = mapped_column(Integer, default=1)
    current_step_type: Mapped[str] = mapped_column(String(50), default="form")
    status: Mapped[str] = mapped_column(String(30), default="needs_input")
    needs_reauth: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)
    connected_at: Mapped[float | None] = mapped_column(Float)
    deleted_at: Mapped[float | None] = mapped_column(Float)
    # As Stitch last showed them (§4.8): the rendered schedule and the pause time.
    schedule: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    paused_at: Mapped[str | None] = mapped_column(String(40))
    # The latest replication job the bridge knows of (started here, or seen by the poller).
    sync_state: Mapped[str] = mapped_column(String(20), default="never", server_default="never")
    sync_job_name: Mapped[str | None] = mapped_column(String(200))
    sync_trigger: Mapped[str | None] = mapped_column(String(20))
    sync_started_at: Mapped[float | None] = mapped_column(Float)
    sync_completed_at: Mapped[float | None] = mapped_column(Float)
    sync_last_succeeded_at: Mapped[float | None] = mapped_column(Float)
    sync_error: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    __table_args__ = (Index("ix_sources_owner", "tenant", "end_user_id"),)


class CreationIntent(Base):
    """Written before Stitch is asked to create a source, so a lost answer is found again."""

    __tablename__ = "creation_intents"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(200), default="")
    end_user_id: Mapped[str] = mapped_column(String(200))
    idempotency_key: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str] = mapped_column(String(300))
    stitch_display_name: Mapped[str] = mapped_column(String(300))
    stitch_name: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(20), default="pending")  # pending|created|failed
    source_id: Mapped[int | None] = mapped_column(BigInteger)
    session_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Float)
    lease_until: Mapped[float] = mapped_column(Float)

    __table_args__ = (
        Index("ux_intents_key", "tenant", "end_user_id", "idempotency_key", unique=True),
        # One creation in flight per end user and type: a double click or a second tab joins it.
        Index(
            "ux_intents_pending",
            "tenant",
            "end_user_id",
            "type",
            unique=True,
            sqlite_where=text("state = 'pending'"),
            postgresql_where=text("state = 'pending'"),
        ),
    )


class UsedToken(Base):
    """Single use of step tokens: a row per (token id, phase); the primary key makes it atomic."""

    __tablename__ = "used_tokens"
    token_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    phase: Mapped[str] = mapped_column(String(16), primary_key=True)  # start|complete
    used_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float)


class EventRow(Base):
    """The durable outbox: every event is kept; delivery state rides along."""

    __tablename__ = "events"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(64), unique=True)
    type: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Float)
    tenant: Mapped[str] = mapped_column(String(200), default="")
    end_user_id: Mapped[str] = mapped_column(String(200))
    source_id: Mapped[int | None] = mapped_column(BigInteger)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    delivered_at: Mapped[float | None] = mapped_column(Float)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[float | None] = mapped_column(Float)
    locked_until: Mapped[float | None] = mapped_column(Float)
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_events_pending", "delivered_at", "next_attempt_at"),
        Index("ix_events_owner", "tenant", "end_user_id"),
    )
