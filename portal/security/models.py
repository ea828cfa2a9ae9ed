"""Portal-wide security settings, stored in the database so owners can change
them on a page."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class PortalSettings(models.Model):
    """The one row of settings that owners change on the security page."""

    SINGLETON_ID = 1

    require_two_factor = models.BooleanField(
        default=False,
        help_text="Every user must set up two-factor login before using the portal.",
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = "portal settings"
        verbose_name_plural = "portal settings"

    def __str__(self) -> str:
        return "Portal settings"

    @classmethod
    def load(cls) -> PortalSettings:
        """Return the settings row, creating it with defaults on first use."""
        row, _ = cls.objects.get_or_create(pk=cls.SINGLETON_ID)
        return row
