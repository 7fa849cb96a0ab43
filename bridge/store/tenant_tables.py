"""Partner-mode tables: tenants with their encrypted Stitch token, and single-use OAuth attempts."""

from __future__ import annotations

from sqlalchemy import BigInteger, Float, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bridge.store.tables import Base


class TenantRow(Base):
    """One tenant of the SaaS and the Stitch client account that acts for it.

    The row is written as `pending` before Stitch is asked to create the account, so two
    concurrent creations cannot both reach Stitch; `access_token` is Fernet ciphertext only.
    """

    __tablename__ = "tenants"
    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    status: Mapped[str] = mapped_column(String(20))  # pending|connected|unlinked
    stitch_account_id: Mapped[int | None] = mapped_column(BigInteger)
    access_token: Mapped[str | None] = mapped_column(Text)  # encrypted (bridge.crypto)
    lease_until: Mapped[float | None] = mapped_column(Float)  # while `pending`
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)

    # Two tenants on one Stitch account would see each other's sources upstream.
    __table_args__ = (Index("ux_tenants_account", "stitch_account_id", unique=True),)


class OAuthAttempt(Base):
    """One authorization redirect the bridge started: what its `state` stands for.

    `kind` is `stitch` (partner OAuth linking a tenant) or `provider` (white-label OAuth of a
    source). `used_at` makes the state single use; `code_verifier` (PKCE) is encrypted.
    """

    __tablename__ = "oauth_attempts"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    tenant: Mapped[str] = mapped_column(String(200), default="")
    redirect_uri: Mapped[str] = mapped_column(String(1000))
    code_verifier: Mapped[str] = mapped_column(Text)  # encrypted (bridge.crypto)
    session_id: Mapped[str | None] = mapped_column(String(64))
    end_user_id: Mapped[str | None] = mapped_column(String(200))
    source_id: Mapped[int | None] = mapped_column(BigInteger)
    source_type: Mapped[str | None] = mapped_column(String(200))
    step_token_id: Mapped[str | None] = mapped_column(String(64))
    origin: Mapped[str | None] = mapped_column(String(300))  # where the callback page reports
    # Redirect mode: where the callback sends the browser back (with a resume id) instead.
    return_url: Mapped[str | None] = mapped_column(String(2048))
    reauth: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float)
    used_at: Mapped[float | None] = mapped_column(Float)
    outcome: Mapped[str] = mapped_column(String(20), default="pending")  # pending|completed|failed
    error: Mapped[str | None] = mapped_column(String(64))
    # Where the browser is sent to consent (encrypted: it may carry the owner's e-mail), and
    # the hash of the cookie of the one browser bound to the attempt (bridge/oauth_binding.py).
    consent_url: Mapped[str | None] = mapped_column(Text)
    browser_hash: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_oauth_attempts_step", "step_token_id"),
        Index("ix_oauth_attempts_expiry", "expires_at"),
    )
