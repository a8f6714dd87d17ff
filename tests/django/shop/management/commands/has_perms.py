"""Print, as JSON, Django's answer to user.has_perm(p) for users x permissions:
{"username": {"app.codename": true, ...}, ...}."""

import json

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Print user.has_perm(p) for each user and permission, as JSON"

    def add_arguments(self, parser):
        parser.add_argument("--users", required=True, help="comma-separated usernames")
        parser.add_argument("--perms", required=True, help="comma-separated app.codename")

    def handle(self, *args, users, perms, **options):
        User = get_user_model()
        answers = {}
        for name in users.split(","):
            user = User.objects.get(username=name)
            answers[name] = {p: user.has_perm(p) for p in perms.split(",")}
        self.stdout.write(json.dumps(answers))
