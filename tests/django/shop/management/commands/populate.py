"""Fill the fixture database: a user per password hasher, groups, custom permissions,
memberships, refresh tokens (live, blacklisted, rotated, and one of a deleted user), and with
--users N that many more users (one refresh token for every tenth) for big runs.

Prints what it made as JSON on stdout, for the tests to compare with keyward.
"""

import json
import uuid
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand
from django.utils import timezone
from rest_framework_simplejwt.serializers import TokenRefreshSerializer
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

PASSWORD = "django-fixture-pass-1"
HASHERS = ["pbkdf2_sha256", "pbkdf2_sha1", "argon2", "bcrypt_sha256", "bcrypt", "scrypt", "md5"]


def permission(label):
    app_label, codename = label.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


class Command(BaseCommand):
    help = "Create the users, groups, permissions and tokens the import tests read"

    def add_arguments(self, parser):
        parser.add_argument("--users", type=int, default=0, help="extra generated users")

    def handle(self, *args, users, **options):
        User = get_user_model()
        made = {}

        def make(username, algorithm, **fields):
            user = User(
                username=username,
                email=f"{username}@example.com",
                first_name=username.title(),
                last_name="Fixture",
                **fields,
            )
            if algorithm == "unusable":
                user.set_unusable_password()
            else:
                user.password = make_password(PASSWORD, hasher=algorithm)
            user.save()
            made[username] = {"id": user.id, "hasher": algorithm}
            return user

        editors = Group.objects.create(name="editors")
        editors.permissions.add(permission("shop.refund_order"), permission("auth.view_user"))
        support = Group.objects.create(name="support")
        support.permissions.add(permission("shop.view_order"))
        Group.objects.create(name="empty")

        admin = make("admin", "bcrypt_sha256", is_staff=True, is_superuser=True)
        by_hasher = {algorithm: make(f"u_{algorithm}", algorithm) for algorithm in HASHERS}
        make("u_unusable", "unusable")
        inactive = make("u_inactive", "bcrypt_sha256", is_active=False)
        staff = make("u_staff", "bcrypt_sha256", is_staff=True)

        by_hasher["bcrypt_sha256"].groups.add(editors)
        by_hasher["bcrypt"].groups.add(support)
        by_hasher["bcrypt"].user_permissions.add(permission("shop.refund_order"))
        by_hasher["pbkdf2_sha256"].groups.add(editors, support)
        staff.user_permissions.add(permission("auth.change_user"), permission("shop.add_order"))
        inactive.groups.add(editors)
        by_hasher["bcrypt"].last_login = timezone.now() - timedelta(days=1)
        by_hasher["bcrypt"].save(update_fields=["last_login"])

        if users:
            self.generate(User, users)

        live, blacklisted = [], []

        def issue(user):
            token = RefreshToken.for_user(user)
            live.append({"user": user.username, "jti": token["jti"], "refresh": str(token)})
            return token

        for user in (admin, by_hasher["bcrypt_sha256"], by_hasher["bcrypt"], by_hasher["pbkdf2_sha256"]):
            issue(user)
        revoked = RefreshToken.for_user(by_hasher["bcrypt_sha256"])
        revoked.blacklist()
        blacklisted.append({"user": "u_bcrypt_sha256", "jti": revoked["jti"], "refresh": str(revoked)})
        # A rotation, as TokenRefreshView does it: the old token blacklisted, the new outstanding.
        spent = RefreshToken.for_user(by_hasher["argon2"])
        rotation = TokenRefreshSerializer(data={"refresh": str(spent)})
        rotation.is_valid(raise_exception=True)
        blacklisted.append({"user": "u_argon2", "jti": spent["jti"], "refresh": str(spent)})
        successor = RefreshToken(rotation.validated_data["refresh"])
        live.append({"user": "u_argon2", "jti": successor["jti"], "refresh": str(successor)})

        # The highest id Django ever issued belongs to a user who no longer exists.
        deleted = make("u_deleted", "bcrypt_sha256")
        orphan = RefreshToken.for_user(deleted)
        live.append({"user": None, "jti": orphan["jti"], "refresh": str(orphan)})
        highest = deleted.id
        deleted.delete()
        del made["u_deleted"]

        self.stdout.write(
            json.dumps(
                {
                    "password": PASSWORD,
                    "users": made,
                    "generated_users": users,
                    "groups": ["editors", "support", "empty"],
                    "live": live,
                    "blacklisted": blacklisted,
                    "highest_id_ever": highest,
                }
            )
        )

    def generate(self, User, count):
        hashed = make_password(PASSWORD, hasher="bcrypt_sha256")
        now = timezone.now()
        for start in range(0, count, 5000):
            chunk = [
                User(username=f"gen{i:07d}", email=f"gen{i:07d}@example.com", password=hashed, date_joined=now)
                for i in range(start, min(start + 5000, count))
            ]
            created = User.objects.bulk_create(chunk)
            OutstandingToken.objects.bulk_create(
                [
                    OutstandingToken(
                        user=user,
                        jti=uuid.uuid4().hex,
                        token=f"generated.{user.username}",
                        created_at=now,
                        expires_at=now + timedelta(days=1),
                    )
                    for user in created[::10]
                ]
            )
