"""Mint tokens in-process, exactly as the login view does after authenticating:
RefreshToken.for_user(user) (which records an OutstandingToken) and its access token.

  --access-out FILE   one access token per benchmark user (written, not appended)
  --refresh N --refresh-out FILE   N refresh tokens, round-robin over the users (appended)

It skips only the bcrypt check of a login, so refresh pools for the refresh workload are
cheap to fill; every token is a real, outstanding, never-used simplejwt token.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from rest_framework_simplejwt.tokens import RefreshToken


class Command(BaseCommand):
    help = "Write access tokens (one per bench user) and/or N fresh refresh tokens to files"

    def add_arguments(self, parser):
        parser.add_argument("--prefix", default="bench")
        parser.add_argument("--access-out")
        parser.add_argument("--refresh", type=int, default=0)
        parser.add_argument("--refresh-out")

    def handle(self, *args, prefix, access_out, refresh, refresh_out, **options):
        users = list(get_user_model().objects.filter(username__startswith=prefix).order_by("id"))
        if not users:
            raise SystemExit("no benchmark users: run bench_users first")
        if access_out:
            with open(access_out, "w") as out:
                for user in users:
                    out.write(str(RefreshToken.for_user(user).access_token) + "\n")
        if refresh and refresh_out:
            with open(refresh_out, "a") as out:
                for i in range(refresh):
                    out.write(str(RefreshToken.for_user(users[i % len(users)])) + "\n")
        self.stdout.write(f"minted {len(users) if access_out else 0} access, {refresh} refresh tokens")
