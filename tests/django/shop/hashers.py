"""Django's hashers at the lowest cost each allows: the same algorithm names and formats as
production hashes, computed in milliseconds."""

from django.contrib.auth import hashers


class FastPBKDF2PasswordHasher(hashers.PBKDF2PasswordHasher):
    iterations = 1000


class FastPBKDF2SHA1PasswordHasher(hashers.PBKDF2SHA1PasswordHasher):
    iterations = 1000


class FastArgon2PasswordHasher(hashers.Argon2PasswordHasher):
    time_cost = 1
    memory_cost = 1024
    parallelism = 1


class FastBCryptSHA256PasswordHasher(hashers.BCryptSHA256PasswordHasher):
    rounds = 4


class FastBCryptPasswordHasher(hashers.BCryptPasswordHasher):
    rounds = 4


class FastScryptPasswordHasher(hashers.ScryptPasswordHasher):
    work_factor = 2**10
    parallelism = 1
