"""Hosted connect links and redirect-mode resume points (secrets stored only as hashes)."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Float, String
from sqlalchemy.orm import Mapped, mapped_column

from bridge.store.tables import Base


class ConnectLink(Base):
    """A link an end user opens on any device, held by the browser that claims it while active."""

    __tablename__ = "connect_links"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    tenant: Mapped[str] = mapped_column(String(200), default="")
    end_user_id: Mapped[str] = mapped_column(String(200))
    end_user_name: Mapped[str | None] = mapped_column(String(300))
    end_user_email: Mapped[str | None] = mapped_column(String(320))
    source_types: Mapped[list[str] | None] = mapped_column(JSON)
    source_id: Mapped[int | None] = mapped_column(BigInteger)
    return_url: Mapped[str | None] = mapped_column(String(2048))
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float)
    state: Mapped[str] = mapped_column(String(16), default="new")  # new|in_use|used
    claim_hash: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[float | None] = mapped_column(Float)
    # Last use by the claiming browser; a claim idle too long lapses (links.CLAIM_IDLE).
    active_at: Mapped[float | None] = mapped_column(Float)
    completed_at: Mapped[float | None] = mapped_column(Float)
    completed_source_id: Mapped[int | None] = mapped_column(BigInteger)


class ResumePoint(Base):
    """Where a redirect-mode flow continues after a full-page round trip; used once."""

    __tablename__ = "resume_points"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(200), default="")
    end_user_id: Mapped[str] = mapped_column(String(200))
    source_id: Mapped[int] = mapped_column(BigInteger)
    step: Mapped[str] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(String(20))  # completed|failed
    error: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float)
    used_at: Mapped[float | None] = mapped_column(Float)
