"""Create the benchmark users: <prefix>0001.. with one password (env BENCH_PASSWORD).

The hash is computed once at the configured cost and reused for every user: the stored
hashes are as valid as ones made one by one, and setup does not spend minutes in bcrypt.
"""

import os

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Create N benchmark users sharing the password in $BENCH_PASSWORD"

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, required=True)
        parser.add_argument("--prefix", default="bench")

    def handle(self, *args, count, prefix, **options):
        password = os.environ.get("BENCH_PASSWORD")
        if not password:
            raise CommandError("set BENCH_PASSWORD")
        User = get_user_model()
        hashed = make_password(password)
        names = [f"{prefix}{i:04d}" for i in range(1, count + 1)]
        User.objects.filter(username__in=names).delete()
        User.objects.bulk_create(
            [User(username=n, email=f"{n}@example.com", password=hashed) for n in names]
        )
        self.stdout.write(f"created {count} users ({hashed.split('$')[0]}, {hashed[:22]}...)")
