"""Remove a user's authenticator app, for a user who lost theirs."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.security.two_factor import two_factor_remove


class Command(BaseCommand):
    help = (
        "Remove a user's two-factor authenticator app, so that their next "
        "login requires the password only (or a new app, while two-factor "
        "login is required)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="The portal user's username.")

    def handle(self, *args: Any, **options: Any) -> None:
        username = options["username"]
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}: check the spelling.")
        count = two_factor_remove(actor=None, user=user)
        self.stdout.write(f"Removed {count} authenticator app(s) of {username}.")
