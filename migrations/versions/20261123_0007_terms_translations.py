"""terms: the language a version is written in, its translations, and the language each acceptance read

Revision ID: 0007
Revises: 0002
Create Date: 2026-11-23 09:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0007"
down_revision = "0002"  # the auth branch: the terms tables
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Versions published so far were written in Dutch: the first party's language, the only one the
    # publishing form offered.
    with op.batch_alter_table("terms_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=10), server_default="nl", nullable=False))
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
    with op.batch_alter_table("terms_acceptances", schema=None) as batch_op:
        batch_op.drop_column("language")
    with op.batch_alter_table("terms_versions", schema=None) as batch_op:
        batch_op.drop_column("language")
