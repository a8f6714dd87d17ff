from django.conf import settings
from django.contrib.auth.hashers import BCryptSHA256PasswordHasher


class BenchBCryptSHA256PasswordHasher(BCryptSHA256PasswordHasher):
    """Django's bcrypt_sha256 at the benchmark's shared cost (keyward's bcrypt_cost).

    Same algorithm name, so hashes look like keyward's ("bcrypt_sha256$$2b$12$..."), and
    `must_update` stays False for them: no rehash on login.
    """

    rounds = settings.BCRYPT_ROUNDS
