"""terms: the language a version is written in, its translations, and the language each acceptance read

Revision ID: 0007
Revises: 0002
Create Date: 2026-11-23 09:00:00
"""

import os

from alembic import op
import sqlalchemy as sa


revision = "0007"
down_revision = "0002"  # the auth branch: the terms tables
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Versions published so far were written in the portal's default language: the only one the
    # publishing form offered.
    written_in = os.environ.get("PORTAL_DEFAULT_LOCALE", "nl").strip() or "nl"
    with op.batch_alter_table("terms_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=10), server_default="nl", nullable=False))
    op.execute(sa.text("UPDATE terms_versions SET language = :language").bindparams(language=written_in))
    with op.batch_alter_table("terms_acceptances", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=10), server_default="", nullable=False))
    op.create_table(
        "terms_translations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("terms_version_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=10), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body_markdown", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["terms_version_id"],
            ["terms_versions.id"],
            name=op.f("fk_terms_translations_terms_version_id_terms_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_terms_translations")),
        sa.UniqueConstraint(
            "terms_version_id", "language", name=op.f("uq_terms_translations_terms_version_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("terms_translations")
    # Plain ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35 too): a batch rebuild would drop and recreate
    # terms_versions, which SQLite refuses while acceptances refer to it (foreign keys are on).
    op.execute(sa.text("ALTER TABLE terms_acceptances DROP COLUMN language"))
    op.execute(sa.text("ALTER TABLE terms_versions DROP COLUMN language"))
