"""Settings of the benchmark peer: DRF + djangorestframework-simplejwt on PostgreSQL.

Configured like a production deployment of the service keyward replaces (DEBUG off, rotation
with blacklist-after-rotation, the token_blacklist app, persistent database connections), and
lean where Django's defaults would only add work an API never uses (no sessions, admin,
templates, messages or CSRF middleware; JSON renderer only).

Every knob comes from the environment, set by bench/run:
  PEER_SIGNING_KEY    HS256 secret shared with keyward and the limit server (required)
  PEER_DB_NAME        PostgreSQL database (default peer_bench)
  PEER_DB_HOST/PORT/USER/PASSWORD   (default 127.0.0.1 / 5432 / postgres / empty)
  PEER_BCRYPT_ROUNDS  bcrypt cost of password hashes (default 12, as keyward's)
  PEER_ACCESS_LIFETIME_S  access token lifetime in seconds (default 43200: the pre-minted
                          tokens must outlive the run; this changes no per-request work)
"""

import os
from datetime import timedelta

SIGNING_KEY = os.environ.get("PEER_SIGNING_KEY", "")
if len(SIGNING_KEY) < 32:
    raise RuntimeError("set PEER_SIGNING_KEY (the HS256 secret shared with keyward), 32+ bytes")

SECRET_KEY = os.environ.get("PEER_SECRET_KEY", SIGNING_KEY + "-django")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "benchapp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]

ROOT_URLCONF = "peer.urls"
WSGI_APPLICATION = "peer.wsgi.application"
TEMPLATES = []

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("PEER_DB_NAME", "peer_bench"),
        "HOST": os.environ.get("PEER_DB_HOST", "127.0.0.1"),
        "PORT": os.environ.get("PEER_DB_PORT", "5432"),
        "USER": os.environ.get("PEER_DB_USER", "postgres"),
        "PASSWORD": os.environ.get("PEER_DB_PASSWORD", ""),
        # One persistent connection per gunicorn worker, as in production.
        "CONN_MAX_AGE": 600,
        # bench/run sets it (as for keyward); libpq's own default otherwise.
        "OPTIONS": {"sslmode": os.environ.get("PEER_DB_SSLMODE", "prefer")},
    }
}

BCRYPT_ROUNDS = int(os.environ.get("PEER_BCRYPT_ROUNDS", "12"))
PASSWORD_HASHERS = [
    # bcrypt over SHA-256 of the password at BCRYPT_ROUNDS: the same hashes keyward stores.
    "benchapp.hashers.BenchBCryptSHA256PasswordHasher",
]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
USE_I18N = False

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
    ],
    "UNAUTHENTICATED_USER": None,
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=int(os.environ.get("PEER_ACCESS_LIFETIME_S", "43200"))),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=1),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": SIGNING_KEY,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
