"""Tables of the sync poller (§4.8): who polls each Stitch account, what it spent, what it said."""

from __future__ import annotations

from sqlalchemy import BigInteger, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bridge.store.tables import Base


class SyncLease(Base):
    """One row per Stitch account: the replica polling it until `expires_at`, and when it last
    did. Taken with a conditional UPDATE, so two replicas never both hold it."""

    __tablename__ = "sync_leases"
    account_key: Mapped[str] = mapped_column(String(100), primary_key=True)  # hashed, no secret
    holder: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[float] = mapped_column(Float)
    polled_at: Mapped[float] = mapped_column(Float, default=0.0)
    stitch_client_id: Mapped[int | None] = mapped_column(BigInteger)


class JobsRequest(Base):
    """One row per extractions/loads request sent: the jobs budget is counted from these, so a
    replica taking over an account sees what the previous holder spent."""

    __tablename__ = "jobs_requests"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_key: Mapped[str] = mapped_column(String(100))
    sent_at: Mapped[float] = mapped_column(Float)

    __table_args__ = (Index("ix_jobs_requests_account", "account_key", "sent_at"),)


class SyncJobEvent(Base):
    """At most one event of each type per replication job, whichever replica saw it: the
    primary key refuses the second."""

    __tablename__ = "sync_job_events"
    type: Mapped[str] = mapped_column(String(64), primary_key=True)
    job_name: Mapped[str] = mapped_column(String(200), primary_key=True)
    created_at: Mapped[float] = mapped_column(Float)
